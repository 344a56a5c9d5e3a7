/**
 * The stand-in's bundled catalogue: a dozen recipes and outdoor products with schema.org-ish
 * fields. Small on purpose; answers are a pure function of the query, so tests and benchmarks
 * get the same stream every run.
 */

export interface StandinItem {
  readonly url: string;
  readonly name: string;
  readonly site: string;
  readonly description: string;
  /** Extra words a query may match besides the name and description. */
  readonly keywords: readonly string[];
  readonly schema_object: Readonly<Record<string, unknown>>;
}

function recipe(
  slug: string,
  name: string,
  description: string,
  keywords: string[],
  totalTime: string,
  ingredients: string[],
): StandinItem {
  const url = `https://recipes.example.org/${slug}`;
  return {
    url,
    name,
    site: 'recipes.example.org',
    description,
    keywords,
    schema_object: { '@type': 'Recipe', name, url, description, totalTime, recipeIngredient: ingredients },
  };
}

function product(slug: string, name: string, description: string, keywords: string[], price: number, brand: string): StandinItem {
  const url = `https://gear.example.org/${slug}`;
  return {
    url,
    name,
    site: 'gear.example.org',
    description,
    keywords,
    schema_object: {
      '@type': 'Product',
      name,
      url,
      description,
      brand: { '@type': 'Brand', name: brand },
      offers: { '@type': 'Offer', price, priceCurrency: 'USD' },
    },
  };
}

/** The default catalogue (6 recipes, 6 products). */
export const STANDIN_ITEMS: readonly StandinItem[] = [
  recipe(
    'spicy-vegetarian-chili',
    'Spicy Vegetarian Chili',
    'A smoky three-bean chili with chipotle, ready in under an hour.',
    ['vegetarian', 'vegan', 'beans', 'dinner', 'spicy'],
    'PT50M',
    ['black beans', 'kidney beans', 'chipotle', 'tomatoes', 'onion'],
  ),
  recipe(
    'lemon-garlic-pasta',
    'Lemon Garlic Pasta',
    'Weeknight spaghetti tossed with lemon, garlic, parmesan and parsley.',
    ['pasta', 'quick', 'dinner', 'vegetarian', 'italian'],
    'PT20M',
    ['spaghetti', 'lemon', 'garlic', 'parmesan'],
  ),
  recipe(
    'classic-chocolate-cake',
    'Classic Chocolate Cake',
    'A moist two-layer chocolate cake with fudge frosting for birthdays.',
    ['dessert', 'cake', 'chocolate', 'baking', 'birthday'],
    'PT1H30M',
    ['flour', 'cocoa', 'sugar', 'eggs', 'butter'],
  ),
  recipe(
    'thai-green-curry',
    'Thai Green Curry',
    'Fragrant coconut green curry with chicken, basil and aubergine.',
    ['curry', 'thai', 'chicken', 'spicy', 'dinner', 'coconut'],
    'PT40M',
    ['green curry paste', 'coconut milk', 'chicken', 'thai basil'],
  ),
  recipe(
    'overnight-oats',
    'Overnight Oats',
    'No-cook breakfast oats soaked with yogurt, berries and honey.',
    ['breakfast', 'oats', 'quick', 'healthy', 'vegetarian'],
    'PT10M',
    ['rolled oats', 'yogurt', 'berries', 'honey'],
  ),
  recipe(
    'grilled-salmon-salad',
    'Grilled Salmon Salad',
    'Charred salmon over greens with a dill and lemon dressing.',
    ['salmon', 'fish', 'salad', 'healthy', 'lunch', 'grilled'],
    'PT25M',
    ['salmon', 'mixed greens', 'dill', 'lemon'],
  ),
  product(
    'ultralight-backpacking-tent',
    'Ultralight Backpacking Tent',
    'Two-person freestanding tent, 1.1 kg, for three-season hiking.',
    ['tent', 'camping', 'hiking', 'backpacking', 'ultralight'],
    429,
    'Summit Works',
  ),
  product(
    'down-sleeping-bag',
    'Down Sleeping Bag -7C',
    'Warm 800-fill down mummy bag rated to -7 C for winter camping.',
    ['sleeping', 'bag', 'camping', 'winter', 'down', 'warm'],
    359,
    'Northfold',
  ),
  product(
    'trail-running-shoes',
    'Trail Running Shoes',
    'Grippy, cushioned trail shoes with a rock plate for rough terrain.',
    ['shoes', 'running', 'trail', 'hiking', 'footwear'],
    149,
    'Ridgeline',
  ),
  product(
    'waterproof-rain-jacket',
    'Waterproof Rain Jacket',
    'Breathable three-layer shell jacket that packs into its pocket.',
    ['jacket', 'rain', 'waterproof', 'hiking', 'shell'],
    229,
    'Northfold',
  ),
  product(
    'camping-stove',
    'Compact Camping Stove',
    'Canister stove that boils a litre of water in three minutes.',
    ['stove', 'camping', 'cooking', 'backpacking'],
    69,
    'Summit Works',
  ),
  product(
    'hiking-backpack-45l',
    'Hiking Backpack 45L',
    'Ventilated 45 litre pack with hip belt pockets for multi-day hikes.',
    ['backpack', 'pack', 'hiking', 'backpacking', 'camping'],
    199,
    'Ridgeline',
  ),
];

const STOP_WORDS = new Set([
  'the',
  'and',
  'for',
  'with',
  'what',
  'which',
  'are',
  'any',
  'some',
  'good',
  'best',
  'you',
  'can',
  'how',
  'find',
  'show',
  'want',
  'need',
  'recommend',
  'about',
  'that',
  'this',
  'from',
  'give',
]);

/** The words of a query the catalogue is matched on (lowercase, 3+ letters, no stop words). */
export function queryWords(query: string): string[] {
  const words = query.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return [...new Set(words.filter((w) => w.length >= 3 && !STOP_WORDS.has(w)))];
}

/**
 * Diet words: a query naming one asks for items that are so, not for anything else the query's other words match
 * ("vegetarian dinner ideas?" wants no chicken curry, however much of a dinner it is). An item must match every
 * diet word of the query.
 */
export const DIET_WORDS: ReadonlySet<string> = new Set(['vegetarian', 'vegan', 'pescatarian', 'keto', 'paleo', 'halal', 'kosher']);

const isDietWord = (w: string): boolean => DIET_WORDS.has(w) || (w.endsWith('s') && DIET_WORDS.has(w.slice(0, -1)));

/**
 * Items matching the query, best first: ranked by how many of the query's words they match (then catalogue order),
 * and, when the query names a diet (DIET_WORDS), only items that match every diet word it names. A word matches an
 * item's name, description or keywords, also as a plural ("tents" matches "tent").
 */
export function matchStandinItems(
  query: string,
  items: readonly StandinItem[] = STANDIN_ITEMS,
  limit = 9,
): { item: StandinItem; score: number }[] {
  const words = queryWords(query);
  if (words.length === 0) return [];
  const diets = words.filter(isDietWord);
  const scored: { item: StandinItem; score: number; index: number }[] = [];
  items.forEach((item, index) => {
    const haystack = `${item.name} ${item.description} ${item.keywords.join(' ')}`.toLowerCase();
    const tokens = new Set(haystack.match(/[a-z0-9]+/g) ?? []);
    const has = (w: string): boolean => tokens.has(w) || (w.endsWith('s') && tokens.has(w.slice(0, -1)));
    if (!diets.every(has)) return;
    const hits = words.filter(has).length;
    if (hits > 0) scored.push({ item, score: Math.round((100 * hits) / words.length), index });
  });
  scored.sort((a, b) => b.score - a.score || a.index - b.index);
  return scored.slice(0, limit).map(({ item, score }) => ({ item, score }));
}

/**
 * The `message` of the stand-in's no_results for a query its catalogue does not match: what it knows and a word per
 * site that does match, so whoever asked the stand-in (through a chat, which says "no answer") learns why.
 */
export function noResultsMessage(query: string, items: readonly StandinItem[] = STANDIN_ITEMS): string {
  const none = `No results were found for "${query}".`;
  if (items.length === 0) return `${none} This NLWeb stand-in has no items.`;
  const sites = [...new Set(items.map((item) => item.site))];
  // The first keyword of each site's first item: a one-word query that matches at least that item.
  const tries = sites.flatMap((site) => items.find((item) => item.site === site)?.keywords.slice(0, 1) ?? []).map((w) => `"${w}"`);
  const suggestion = tries.length > 0 ? `: try ${tries.join(' or ')}` : '';
  return `${none} This NLWeb stand-in knows only its ${items.length} bundled items (${sites.join(', ')})${suggestion}.`;
}
