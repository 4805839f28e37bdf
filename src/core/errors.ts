/**
 * One error catalogue for the whole toolkit. Every error a user can hit carries a stable code,
 * a message that says what went wrong and what to do, the process exit code the CLI uses and the
 * HTTP status the server uses, plus structured data (file, line, flag) for `--json` output.
 */
export const ERROR_CODES = {
  RECSYS_ERR_USAGE: { exit: 2, status: 400 },
  RECSYS_ERR_FILE_NOT_FOUND: { exit: 3, status: 404 },
  RECSYS_ERR_INGEST_FORMAT: { exit: 4, status: 400 },
  RECSYS_ERR_INGEST_ROW: { exit: 4, status: 400 },
  RECSYS_ERR_INGEST_COLUMN: { exit: 4, status: 400 },
  RECSYS_ERR_STORE: { exit: 5, status: 500 },
  RECSYS_ERR_STORE_EMPTY: { exit: 5, status: 409 },
  RECSYS_ERR_SPLIT: { exit: 6, status: 400 },
  RECSYS_ERR_ARTIFACT: { exit: 7, status: 500 },
  RECSYS_ERR_MODEL_UNKNOWN: { exit: 2, status: 400 },
  RECSYS_ERR_MODEL_FIT: { exit: 8, status: 500 },
  RECSYS_ERR_MODEL_PARAM: { exit: 2, status: 400 },
  RECSYS_ERR_EVAL: { exit: 9, status: 500 },
  RECSYS_ERR_GATE_FAILED: { exit: 10, status: 412 },
  RECSYS_ERR_REPORT: { exit: 11, status: 500 },
  RECSYS_ERR_UNKNOWN_USER: { exit: 2, status: 404 },
  RECSYS_ERR_UNKNOWN_ITEM: { exit: 2, status: 404 },
  RECSYS_ERR_UNAUTHORIZED: { exit: 2, status: 401 },
  RECSYS_ERR_REDIS: { exit: 12, status: 503 },
  RECSYS_ERR_SERVING: { exit: 12, status: 500 },
  /** A compute backend (e.g. --backend webgpu) cannot run on this machine. */
  RECSYS_ERR_BACKEND_UNAVAILABLE: { exit: 13, status: 503 },
} as const;

export type RecsysErrorCode = keyof typeof ERROR_CODES;

export interface RecsysErrorData {
  file?: string;
  line?: number;
  column?: string;
  flag?: string;
  [key: string]: unknown;
}

export class RecsysError extends Error {
  readonly code: RecsysErrorCode;
  readonly exit: number;
  readonly status: number;
  readonly data: RecsysErrorData;

  constructor(code: RecsysErrorCode, message: string, data: RecsysErrorData = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecsysError';
    this.code = code;
    this.exit = ERROR_CODES[code].exit;
    this.status = ERROR_CODES[code].status;
    this.data = data;
  }

  toJSON(): { code: string; message: string; data: RecsysErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export function isRecsysError(e: unknown): e is RecsysError {
  return e instanceof RecsysError;
}
