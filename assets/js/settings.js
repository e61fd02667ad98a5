// The person's settings, remembered per site in localStorage: the threshold, the most boxes shown,
// whether labels are drawn, and the camera they chose. Address parameters (?threshold=…) win over
// what is remembered, which wins over the build's defaults. Storage can be missing or refuse
// writes (private windows, blocked site data): the page then simply forgets.

const VERSION = 1;

/** What each remembered setting may hold; anything else in storage is ignored. */
const VALID = {
  threshold: (value) => typeof value === 'number' && value >= 0 && value <= 1,
  maxDetections: (value) => Number.isInteger(value) && value >= 1 && value <= 1000,
  showLabels: (value) => typeof value === 'boolean',
  cameraId: (value) => typeof value === 'string' && value.length < 512,
  facing: (value) => value === 'user' || value === 'environment',
};

/** One key per site: sites served from the same origin under different paths keep their own. */
export function settingsKey(pathname) {
  const folder = pathname.endsWith('/') ? pathname : pathname.replace(/[^/]*$/, '');
  return `sitegen:settings:${folder}`;
}

export class SettingsStore {
  /**
   * @param {Storage|null|undefined} storage  localStorage, or null where the browser has none
   * @param {string} key  from settingsKey()
   */
  constructor(storage, key) {
    this.storage = storage ?? null;
    this.key = key;
    this.values = this.read();
  }

  read() {
    let stored;
    try {
      stored = JSON.parse(this.storage?.getItem(this.key) ?? 'null');
    } catch {
      return {};
    }
    if (!stored || stored.version !== VERSION) return {};
    const values = {};
    for (const [name, valid] of Object.entries(VALID)) {
      if (valid(stored[name])) values[name] = stored[name];
    }
    return values;
  }

  /** The remembered value of `name`, or undefined. */
  get(name) {
    return this.values[name];
  }

  /** Remembers `changes` ({name: value}); a value that is not valid for its name is dropped. */
  update(changes) {
    for (const [name, value] of Object.entries(changes)) {
      if (VALID[name]?.(value)) this.values[name] = value;
      else delete this.values[name];
    }
    try {
      this.storage?.setItem(this.key, JSON.stringify({ version: VERSION, ...this.values }));
    } catch {
      // Quota exceeded or storage blocked: the setting holds for this visit only.
    }
  }
}
