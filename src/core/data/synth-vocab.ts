/**
 * Vocabularies for the synthetic e-commerce generator (synth.ts): per-category product nouns,
 * adjectives, materials, uses and brands, plus each category's price distribution and its age
 * tilt, and the weighted demographic lists (age bands, countries).
 *
 * The words are what make content features carry signal: a product's title and description are
 * built only from its category's words, and the hidden communities prefer particular adjectives,
 * materials and brands within a category (see synth.ts), so a text or brand model can recover
 * part of the structure a collaborative model learns from the events.
 *
 * Prices are log-normal per category: price = exp(ln(priceMedian) + priceSigma·N(0,1)), times a
 * brand premium (brands are listed from budget to premium).
 * `ageTilt` in [-1, 1] shifts a category's appeal toward young (-1) or older (+1) users.
 */

export interface CategoryVocab {
  /** The category label written to products.category. */
  readonly name: string;
  /** Relative size of the category in the catalogue (number of products). */
  readonly weight: number;
  /** Median price in currency units; the log-normal's location is ln(priceMedian). */
  readonly priceMedian: number;
  /** Log-normal scale of the price. */
  readonly priceSigma: number;
  /** Appeal by age: -1 skews young, +1 skews older. */
  readonly ageTilt: number;
  /** Product types (title head nouns), singular. */
  readonly nouns: readonly string[];
  readonly adjectives: readonly string[];
  /** Materials / key features, used as "with X" in titles and "made with X" in descriptions. */
  readonly materials: readonly string[];
  /** What the product is for ("Great for X."). */
  readonly uses: readonly string[];
  /** Brands, budget first, premium last. */
  readonly brands: readonly string[];
}

export const CATEGORY_VOCAB: readonly CategoryVocab[] = [
  {
    name: 'running shoes', weight: 1.0, priceMedian: 95, priceSigma: 0.35, ageTilt: -0.3,
    nouns: ['running shoe', 'trail shoe', 'racing flat', 'trainer', 'road shoe'],
    adjectives: ['cushioned', 'lightweight', 'responsive', 'stable', 'breathable', 'waterproof', 'grippy', 'minimalist', 'wide-fit', 'carbon-plated', 'reflective', 'neutral'],
    materials: ['engineered mesh', 'foam midsole', 'rubber outsole', 'knit upper', 'rock plate', 'gore-tex lining', 'gel insert'],
    uses: ['marathon training', 'daily runs', 'trail running', 'race day', 'tempo workouts', 'recovery jogs'],
    brands: ['Stridex', 'PaceLine', 'Kinetix', 'TrailForge', 'Velocita', 'Apexrun', 'Aerolite'],
  },
  {
    name: 'smartphones', weight: 0.8, priceMedian: 480, priceSigma: 0.6, ageTilt: -0.4,
    nouns: ['smartphone', 'phone', 'flip phone', 'rugged phone', 'mini phone'],
    adjectives: ['unlocked', 'dual-sim', '5g', 'compact', 'flagship', 'budget', 'foldable', 'rugged', 'water-resistant', 'fast-charging', 'triple-camera', 'refurbished'],
    materials: ['oled display', '128gb storage', '256gb storage', 'glass back', 'aluminium frame', 'stylus', 'telephoto lens'],
    uses: ['mobile photography', 'gaming on the go', 'business travel', 'streaming video', 'everyday calls'],
    brands: ['Nokto', 'Zentel', 'Orbix', 'Lumina', 'Quanta', 'Pixelon', 'Aurion'],
  },
  {
    name: 'laptops', weight: 0.7, priceMedian: 900, priceSigma: 0.5, ageTilt: -0.1,
    nouns: ['laptop', 'notebook', 'ultrabook', 'chromebook', '2-in-1 laptop'],
    adjectives: ['thin', 'lightweight', 'gaming', 'business', 'convertible', 'touchscreen', 'long-battery', 'quiet', 'high-refresh', 'student', 'workstation', 'fanless'],
    materials: ['16gb ram', 'ssd storage', 'backlit keyboard', 'dedicated gpu', 'oled panel', 'fingerprint reader', 'thunderbolt ports'],
    uses: ['remote work', 'gaming', 'video editing', 'programming', 'schoolwork', 'travel'],
    brands: ['Corebook', 'Vantec', 'Zentel', 'Nimbus', 'Helixa', 'Titanio', 'Aurion'],
  },
  {
    name: 'headphones', weight: 0.8, priceMedian: 110, priceSigma: 0.7, ageTilt: -0.5,
    nouns: ['headphones', 'earbuds', 'headset', 'in-ear monitors', 'sport earphones'],
    adjectives: ['wireless', 'noise-cancelling', 'over-ear', 'on-ear', 'true-wireless', 'bass-heavy', 'studio', 'foldable', 'sweatproof', 'low-latency', 'open-back', 'hi-res'],
    materials: ['memory foam cushions', 'bluetooth 5.3', 'usb-c charging', 'detachable cable', 'boom microphone', 'beryllium drivers', 'charging case'],
    uses: ['commuting', 'workouts', 'gaming', 'mixing music', 'long flights', 'calls'],
    brands: ['Sonique', 'Audiora', 'Bassline', 'Echovia', 'Resona', 'Klarheit', 'Maestro'],
  },
  {
    name: 'skincare', weight: 1.0, priceMedian: 28, priceSigma: 0.6, ageTilt: 0.1,
    nouns: ['moisturiser', 'serum', 'cleanser', 'sunscreen', 'face mask', 'eye cream'],
    adjectives: ['hydrating', 'fragrance-free', 'anti-ageing', 'brightening', 'gentle', 'oil-free', 'vegan', 'dermatologist-tested', 'soothing', 'mattifying', 'overnight', 'spf50'],
    materials: ['hyaluronic acid', 'vitamin c', 'retinol', 'niacinamide', 'aloe vera', 'ceramides', 'green tea extract'],
    uses: ['dry skin', 'sensitive skin', 'daily protection', 'fine lines', 'oily skin', 'night routines'],
    brands: ['Dermaly', 'PureGlow', 'Solenne', 'Hydrafin', 'Verdance', 'Lumiere', 'Maison Ode'],
  },
  {
    name: 'makeup', weight: 0.8, priceMedian: 22, priceSigma: 0.55, ageTilt: -0.4,
    nouns: ['lipstick', 'foundation', 'mascara', 'eyeshadow palette', 'concealer', 'blush'],
    adjectives: ['matte', 'long-wear', 'waterproof', 'shimmer', 'nude', 'bold', 'cruelty-free', 'full-coverage', 'sheer', 'creamy', 'smudge-proof', 'glossy'],
    materials: ['twelve shades', 'mineral pigments', 'vitamin e', 'built-in brush', 'mirror compact', 'jojoba oil', 'satin finish'],
    uses: ['evening looks', 'everyday wear', 'weddings', 'photo shoots', 'office days'],
    brands: ['Colorique', 'Velvetta', 'Rougeline', 'Glamora', 'Blushe', 'Atelier Noir', 'Maison Ode'],
  },
  {
    name: 'kitchen appliances', weight: 0.9, priceMedian: 85, priceSigma: 0.7, ageTilt: 0.3,
    nouns: ['blender', 'air fryer', 'coffee maker', 'toaster', 'stand mixer', 'kettle', 'food processor'],
    adjectives: ['compact', 'programmable', 'stainless', 'high-speed', 'quiet', 'digital', 'cordless', 'family-size', 'energy-saving', 'retro', 'smart', 'dishwasher-safe'],
    materials: ['glass jug', 'touch controls', 'non-stick basket', 'timer', 'six speeds', 'keep-warm plate', 'bpa-free parts'],
    uses: ['smoothies', 'weeknight dinners', 'baking', 'morning coffee', 'meal prep', 'small kitchens'],
    brands: ['Kitchly', 'HomeChef', 'Brevo', 'Culina', 'Mixmaster', 'Graniteware', 'Gourmetta'],
  },
  {
    name: 'cookware', weight: 0.8, priceMedian: 55, priceSigma: 0.6, ageTilt: 0.4,
    nouns: ['frying pan', 'saucepan', 'dutch oven', 'wok', 'stockpot', 'cookware set', 'skillet'],
    adjectives: ['non-stick', 'cast-iron', 'induction-ready', 'oven-safe', 'enamelled', 'tri-ply', 'heavy-duty', 'lightweight', 'pre-seasoned', 'copper-core', 'ceramic', 'professional'],
    materials: ['stainless steel', 'cast iron', 'hard-anodised aluminium', 'glass lid', 'stay-cool handle', 'ceramic coating', 'copper base'],
    uses: ['searing steaks', 'slow braising', 'stir-fries', 'soups', 'everyday cooking', 'camp cooking'],
    brands: ['Panworks', 'Ferro', 'Culina', 'Hearthstone', 'Cuivre', 'Le Fonte', 'Gourmetta'],
  },
  {
    name: 'furniture', weight: 0.7, priceMedian: 240, priceSigma: 0.8, ageTilt: 0.3,
    nouns: ['sofa', 'armchair', 'desk', 'bookshelf', 'dining table', 'bed frame', 'office chair'],
    adjectives: ['mid-century', 'modular', 'ergonomic', 'solid-wood', 'minimalist', 'scandinavian', 'industrial', 'velvet', 'extendable', 'space-saving', 'reclining', 'rustic'],
    materials: ['oak veneer', 'walnut', 'steel legs', 'linen upholstery', 'memory foam', 'tempered glass', 'rattan'],
    uses: ['small apartments', 'home offices', 'family rooms', 'guest rooms', 'reading corners'],
    brands: ['Nordhus', 'Oakline', 'Loftwerk', 'Casa Viva', 'Holmgard', 'Atelier Bois', 'Maison Ode'],
  },
  {
    name: 'bedding', weight: 0.7, priceMedian: 60, priceSigma: 0.55, ageTilt: 0.3,
    nouns: ['duvet', 'pillow', 'sheet set', 'mattress topper', 'weighted blanket', 'quilt'],
    adjectives: ['organic', 'cooling', 'hypoallergenic', 'king-size', 'breathable', 'luxury', 'down-alternative', 'percale', 'sateen', 'all-season', 'machine-washable', 'heavyweight'],
    materials: ['egyptian cotton', 'bamboo fibre', 'linen', 'memory foam', 'goose down', 'microfibre', 'merino wool'],
    uses: ['hot sleepers', 'guest beds', 'allergy sufferers', 'winter nights', 'kids rooms'],
    brands: ['Dreamwell', 'Slumbra', 'Linenhaus', 'Cloudrest', 'Nuit Blanche', 'Duvetta', 'Maison Ode'],
  },
  {
    name: 'gardening tools', weight: 0.6, priceMedian: 35, priceSigma: 0.7, ageTilt: 0.8,
    nouns: ['pruning shears', 'garden hose', 'trowel', 'lawn mower', 'leaf blower', 'watering can', 'hedge trimmer'],
    adjectives: ['cordless', 'ergonomic', 'telescopic', 'rust-proof', 'heavy-duty', 'expandable', 'battery-powered', 'lightweight', 'professional', 'kink-free', 'self-propelled', 'compact'],
    materials: ['carbon steel blades', 'fibreglass handle', 'brass fittings', '40v battery', 'soft-grip handles', 'mulching kit', 'stainless steel'],
    uses: ['rose bushes', 'vegetable beds', 'large lawns', 'patios', 'autumn leaves', 'balcony gardens'],
    brands: ['Greenthumb', 'Verdura', 'Rootwell', 'Gardena Pro', 'Hedgecraft', 'Tuinman', 'Fiskborg'],
  },
  {
    name: 'toys', weight: 0.8, priceMedian: 25, priceSigma: 0.7, ageTilt: 0.1,
    nouns: ['building set', 'plush toy', 'remote-control car', 'doll', 'puzzle', 'train set', 'action figure'],
    adjectives: ['educational', 'wooden', 'stem', 'interactive', 'collectible', 'battery-free', 'glow-in-the-dark', 'montessori', 'magnetic', 'giant', 'musical', 'eco-friendly'],
    materials: ['500 pieces', 'non-toxic paint', 'soft fleece', 'rechargeable battery', 'beech wood', 'recycled plastic', 'sound effects'],
    uses: ['toddlers', 'birthday gifts', 'rainy days', 'classrooms', 'road trips', 'ages 8 and up'],
    brands: ['Playnook', 'Tinkerbox', 'Joybrick', 'Woodle', 'Funfair', 'Brightkid', 'Meccanova'],
  },
  {
    name: 'board games', weight: 0.5, priceMedian: 35, priceSigma: 0.45, ageTilt: -0.1,
    nouns: ['board game', 'card game', 'party game', 'strategy game', 'cooperative game', 'dice game'],
    adjectives: ['family', 'cooperative', 'competitive', 'two-player', 'deck-building', 'quick', 'legacy', 'fantasy', 'trivia', 'abstract', 'deluxe', 'award-winning'],
    materials: ['wooden meeples', 'custom dice', 'illustrated cards', 'expansion pack', 'miniatures', 'modular board', 'sand timer'],
    uses: ['game nights', 'families', 'two players', 'parties', 'long weekends'],
    brands: ['Meeplehaus', 'Dicecraft', 'Tabletopia', 'Rollwell', 'Cardinal Games', 'Questforge', 'Stratagem'],
  },
  {
    name: 'video games', weight: 0.7, priceMedian: 45, priceSigma: 0.45, ageTilt: -0.9,
    nouns: ['video game', 'controller', 'gaming mouse', 'gaming keyboard', 'console bundle', 'racing wheel'],
    adjectives: ['open-world', 'multiplayer', 'rpg', 'shooter', 'indie', 'rgb', 'mechanical', 'wireless', 'collectors-edition', 'esports', 'retro', 'vr-ready'],
    materials: ['season pass', 'hall-effect sticks', 'optical switches', 'haptic feedback', 'steelbook case', '1tb storage', 'force feedback'],
    uses: ['online play', 'couch co-op', 'competitive play', 'speedruns', 'streaming'],
    brands: ['Pixelforge', 'Raidline', 'Nexplay', 'Arcadia', 'Voltgrip', 'Hyperion', 'Obsidian Labs'],
  },
  {
    name: 'books', weight: 1.0, priceMedian: 16, priceSigma: 0.4, ageTilt: 0.5,
    nouns: ['novel', 'cookbook', 'biography', 'thriller', 'history book', 'fantasy saga', 'self-help guide'],
    adjectives: ['bestselling', 'illustrated', 'hardcover', 'paperback', 'award-winning', 'gripping', 'classic', 'debut', 'annotated', 'large-print', 'signed', 'collected'],
    materials: ['400 pages', 'ribbon marker', 'colour plates', 'foreword', 'maps', 'recipes', 'study guide'],
    uses: ['book clubs', 'long holidays', 'gifting', 'bedtime reading', 'students', 'commutes'],
    brands: ['Inkwell Press', 'Penhallow', 'Quarto House', 'Lantern Books', 'Folio & Co', 'Bramble', 'Harrowgate'],
  },
  {
    name: 'camping gear', weight: 0.6, priceMedian: 75, priceSigma: 0.75, ageTilt: -0.1,
    nouns: ['tent', 'sleeping bag', 'backpack', 'camping stove', 'headlamp', 'camp chair', 'water filter'],
    adjectives: ['ultralight', 'waterproof', 'four-season', 'packable', 'insulated', 'freestanding', 'rechargeable', 'compact', 'windproof', 'two-person', 'rugged', 'family'],
    materials: ['ripstop nylon', 'aluminium poles', 'down fill', 'titanium', 'dwr coating', 'usb charging', 'hip belt'],
    uses: ['backpacking', 'car camping', 'alpine trips', 'festivals', 'thru-hikes', 'bikepacking'],
    brands: ['Summitra', 'Ridgeback', 'Basecamp', 'Nordwand', 'Trailhaus', 'Fjellgear', 'Alpenglow'],
  },
  {
    name: 'fitness equipment', weight: 0.7, priceMedian: 70, priceSigma: 0.9, ageTilt: -0.3,
    nouns: ['dumbbell set', 'yoga mat', 'resistance bands', 'kettlebell', 'exercise bike', 'pull-up bar', 'foam roller'],
    adjectives: ['adjustable', 'non-slip', 'foldable', 'heavy-duty', 'home-gym', 'eco', 'extra-thick', 'smart', 'compact', 'vinyl-coated', 'magnetic', 'professional'],
    materials: ['cast iron', 'tpe foam', 'natural rubber', 'steel frame', 'lcd monitor', 'quick-lock plates', 'carry strap'],
    uses: ['home workouts', 'yoga', 'strength training', 'rehab', 'hiit', 'small spaces'],
    brands: ['Ironclad', 'Flexa', 'Corepower', 'Zenmat', 'Liftwell', 'Pulsefit', 'Titan Athletic'],
  },
  {
    name: 'watches', weight: 0.5, priceMedian: 180, priceSigma: 0.9, ageTilt: 0.2,
    nouns: ['watch', 'smartwatch', 'dive watch', 'chronograph', 'fitness tracker', 'field watch'],
    adjectives: ['automatic', 'solar', 'minimalist', 'waterproof', 'gps', 'luxury', 'vintage', 'titanium', 'slim', 'skeleton', 'sports', 'hybrid'],
    materials: ['sapphire crystal', 'leather strap', 'steel bracelet', 'heart-rate sensor', 'ceramic bezel', 'swiss movement', 'nato strap'],
    uses: ['diving', 'daily wear', 'marathons', 'formal events', 'outdoor adventures'],
    brands: ['Horlogia', 'Tempra', 'Chronel', 'Meridian', 'Valjoux', 'Kronberg', 'Atelier Noir'],
  },
  {
    name: 'jewelry', weight: 0.5, priceMedian: 90, priceSigma: 1.0, ageTilt: 0.3,
    nouns: ['necklace', 'ring', 'earrings', 'bracelet', 'pendant', 'anklet'],
    adjectives: ['handmade', 'sterling', 'minimalist', 'vintage', 'personalised', 'dainty', 'statement', 'hypoallergenic', 'layered', 'engraved', 'gold-plated', 'bohemian'],
    materials: ['sterling silver', '14k gold', 'freshwater pearls', 'cubic zirconia', 'rose gold', 'turquoise', 'lab-grown diamond'],
    uses: ['anniversaries', 'everyday wear', 'bridesmaids', 'birthdays', 'evening wear'],
    brands: ['Aurelia', 'Silverleaf', 'Lunette', 'Gemstory', 'Orfèvre', 'Maison Ode', 'Atelier Noir'],
  },
  {
    name: 'pet supplies', weight: 0.7, priceMedian: 24, priceSigma: 0.7, ageTilt: 0.2,
    nouns: ['dog bed', 'cat tree', 'dog leash', 'pet carrier', 'chew toy', 'litter box', 'aquarium filter'],
    adjectives: ['orthopedic', 'washable', 'indestructible', 'self-cleaning', 'reflective', 'calming', 'airline-approved', 'interactive', 'grain-free', 'large-breed', 'multi-level', 'quiet'],
    materials: ['memory foam', 'sisal rope', 'nylon webbing', 'natural rubber', 'removable cover', 'carbon filter', 'mesh windows'],
    uses: ['puppies', 'senior dogs', 'indoor cats', 'travel', 'aquariums', 'long walks'],
    brands: ['Pawsome', 'Furrendly', 'Tailwag', 'Whiskerly', 'Barkley & Co', 'Petluxe', 'Nordic Paws'],
  },
  {
    name: 'baby products', weight: 0.6, priceMedian: 40, priceSigma: 0.8, ageTilt: -0.2,
    nouns: ['stroller', 'baby carrier', 'high chair', 'baby monitor', 'crib mattress', 'nappy bag', 'bottle set'],
    adjectives: ['foldable', 'organic', 'anti-colic', 'ergonomic', 'travel', 'convertible', 'bpa-free', 'breathable', 'lightweight', 'smart', 'all-terrain', 'machine-washable'],
    materials: ['organic cotton', 'five-point harness', 'night vision', 'silicone nipples', 'wipe-clean tray', 'sun canopy', 'memory foam'],
    uses: ['newborns', 'city walks', 'night feeds', 'travel', 'toddlers', 'first meals'],
    brands: ['Babywise', 'Cradlecraft', 'Littlenest', 'Tiny Steps', 'Bambino', 'Mamaroo', 'Nordic Bairn'],
  },
  {
    name: 'coffee & tea', weight: 0.6, priceMedian: 18, priceSigma: 0.6, ageTilt: 0.2,
    nouns: ['coffee beans', 'loose-leaf tea', 'ground coffee', 'tea sampler', 'coffee capsules', 'matcha powder'],
    adjectives: ['single-origin', 'organic', 'dark-roast', 'light-roast', 'decaf', 'fair-trade', 'ceremonial', 'fruity', 'smoky', 'small-batch', 'espresso', 'herbal'],
    materials: ['arabica beans', 'chocolate notes', 'citrus notes', 'biodegradable pods', 'whole leaf', 'resealable bag', 'jasmine blossoms'],
    uses: ['espresso machines', 'pour-over', 'cold brew', 'afternoon tea', 'gifting', 'french press'],
    brands: ['Roastery 9', 'Leafwell', 'Kaffa', 'Steep & Co', 'Brewhaus', 'Camellia', 'Maison Ode'],
  },
  {
    name: "women's dresses", weight: 0.8, priceMedian: 55, priceSigma: 0.6, ageTilt: -0.3,
    nouns: ['maxi dress', 'midi dress', 'wrap dress', 'shirt dress', 'cocktail dress', 'sundress'],
    adjectives: ['floral', 'linen', 'satin', 'pleated', 'sleeveless', 'long-sleeve', 'bodycon', 'boho', 'tailored', 'ruffled', 'backless', 'sustainable'],
    materials: ['organic cotton', 'silk blend', 'recycled polyester', 'tencel', 'lace trim', 'pockets', 'smocked bodice'],
    uses: ['weddings', 'summer days', 'office wear', 'date nights', 'beach holidays'],
    brands: ['Maison Lila', 'Rosewood', 'Sundae', 'Atelier Noir', 'Verano', 'Petal & Pine', 'Maison Ode'],
  },
  {
    name: "men's jackets", weight: 0.6, priceMedian: 120, priceSigma: 0.6, ageTilt: 0.0,
    nouns: ['rain jacket', 'parka', 'bomber jacket', 'denim jacket', 'puffer jacket', 'blazer', 'fleece'],
    adjectives: ['waterproof', 'insulated', 'packable', 'slim-fit', 'quilted', 'hooded', 'windproof', 'classic', 'technical', 'lightweight', 'oversized', 'recycled'],
    materials: ['gore-tex', 'duck down', 'wool blend', 'waxed cotton', 'fleece lining', 'taped seams', 'selvedge denim'],
    uses: ['city commutes', 'hiking', 'winter', 'smart casual', 'festivals'],
    brands: ['Northbound', 'Harbourline', 'Ridgeback', 'Tailor & Ash', 'Fjellgear', 'Alpenglow', 'Kronberg'],
  },
  {
    name: 'home decor', weight: 0.7, priceMedian: 35, priceSigma: 0.75, ageTilt: 0.2,
    nouns: ['table lamp', 'wall art', 'throw pillow', 'vase', 'mirror', 'candle set', 'area rug'],
    adjectives: ['handwoven', 'ceramic', 'boho', 'minimalist', 'vintage', 'scented', 'abstract', 'botanical', 'brass', 'coastal', 'velvet', 'oversized'],
    materials: ['soy wax', 'jute', 'stoneware', 'brass finish', 'linen cover', 'framed print', 'wool'],
    uses: ['living rooms', 'bedrooms', 'housewarming gifts', 'entryways', 'cosy evenings'],
    brands: ['Hygge Home', 'Terracotta', 'Lumen & Co', 'Casa Viva', 'Nordhus', 'Oak & Ember', 'Maison Ode'],
  },
  {
    name: 'cycling', weight: 0.5, priceMedian: 65, priceSigma: 1.0, ageTilt: 0.0,
    nouns: ['bike helmet', 'bike light', 'cycling jersey', 'bike lock', 'saddle', 'bike pump', 'cycling computer'],
    adjectives: ['aero', 'rechargeable', 'breathable', 'gravel', 'commuter', 'carbon', 'padded', 'reflective', 'mips', 'gps', 'anti-theft', 'lightweight'],
    materials: ['usb-c charging', 'chamois pad', 'hardened steel', 'carbon rails', 'pressure gauge', 'ant+ sensors', 'merino blend'],
    uses: ['commuting', 'road racing', 'gravel rides', 'night rides', 'long tours', 'mountain biking'],
    brands: ['Velocita', 'Spokewell', 'Cadenza', 'Chainline', 'Pedalo', 'Gravelworks', 'Kinetix'],
  },
];

/** Age bands written to users.age_band, with population shares and a position in [-1, 1]. */
export const AGE_BANDS: ReadonlyArray<{ readonly band: string; readonly weight: number; readonly z: number }> = [
  { band: '18-24', weight: 0.16, z: -1 },
  { band: '25-34', weight: 0.27, z: -0.6 },
  { band: '35-44', weight: 0.22, z: -0.2 },
  { band: '45-54', weight: 0.16, z: 0.2 },
  { band: '55-64', weight: 0.12, z: 0.6 },
  { band: '65+', weight: 0.07, z: 1 },
];

/** ISO 3166-1 alpha-2 country codes written to users.country, with population shares. */
export const COUNTRIES: ReadonlyArray<{ readonly code: string; readonly weight: number }> = [
  { code: 'US', weight: 0.28 },
  { code: 'GB', weight: 0.09 },
  { code: 'DE', weight: 0.09 },
  { code: 'FR', weight: 0.07 },
  { code: 'IN', weight: 0.07 },
  { code: 'BR', weight: 0.06 },
  { code: 'JP', weight: 0.05 },
  { code: 'CA', weight: 0.05 },
  { code: 'ES', weight: 0.04 },
  { code: 'IT', weight: 0.04 },
  { code: 'MX', weight: 0.04 },
  { code: 'AU', weight: 0.03 },
  { code: 'NL', weight: 0.03 },
  { code: 'SE', weight: 0.02 },
  { code: 'PL', weight: 0.02 },
  { code: 'KR', weight: 0.02 },
];

/** Roman-numeral suffixes for product lines when more categories are asked for than exist. */
export const LINE_SUFFIXES: readonly string[] = ['', ' II', ' III', ' IV', ' V', ' VI', ' VII', ' VIII', ' IX', ' X'];
