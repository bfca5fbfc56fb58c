/* The pages' two languages, English and Korean: which one is shown, and the words.
 *
 * The dictionaries are plain data in their own classic scripts, loaded before this one
 * (i18n-demo.js, i18n-wall.js, i18n-report.js with i18n-report-ko.js, and i18n-figures.js
 * for the figure catalogue's Korean): each adds its keys to
 * `pushlab.messages.en` and `pushlab.messages.ko`. A value is a string with `{name}`
 * placeholders, or a function of the params (for plurals). `t(key, params)` looks a key
 * up in the shown language, then in English, then gives the key itself back, so a
 * missing translation shows as English rather than as nothing.
 *
 * The language: an explicit choice kept in localStorage, else the browser's (Korean if
 * its first language starts with `ko`, else English). Static HTML names its words with
 * attributes — `data-i18n` (text), `data-i18n-html` (a dictionary's own markup),
 * `data-i18n-title`, `data-i18n-aria-label` — and the
 * scripts redraw their own text on `onChange`, so switching needs no reload.
 * Numbers are not translated: format.js writes them the same in both languages.
 *
 * A classic script (no imports), so the report can be made self-contained by inlining it.
 * Outside a page (tests/unit run it with only a `window`) it is English and fills nothing.
 */
(function (pushlab) {
  'use strict';
  const LANGUAGES = ['en', 'ko'];
  const STORAGE_KEY = 'pushlab.lang';
  const messages = (pushlab.messages = pushlab.messages || { en: {}, ko: {} });
  const listeners = [];

  /** The browser's first language as one of ours: Korean for `ko…`, else English. */
  function browserLanguage() {
    if (typeof navigator === 'undefined') return 'en';
    const first = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
    return first.toLowerCase().startsWith('ko') ? 'ko' : 'en';
  }

  function storedLanguage() {
    try {
      const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE_KEY);
      return LANGUAGES.includes(stored) ? stored : null;
    } catch {
      return null; // storage refused (a file:// page in some browsers): the browser's language
    }
  }

  let lang = storedLanguage() ?? browserLanguage();

  /** The text of `key` in the shown language, with `{name}` replaced by `params.name`. */
  function t(key, params = {}) {
    const value = messages[lang]?.[key] ?? messages.en[key] ?? key;
    const text = typeof value === 'function' ? value(params) : value;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  /**
   * A value of a results file or of format.js as the page shows it: "not measured" and
   * the file's words the dictionaries know (`value.<word>`: works, fixed, restart …) in
   * the shown language; any other value (a number, a name) as it is.
   */
  function valueText(value) {
    if (value === pushlab.NOT_MEASURED) return t('notMeasured');
    if (value === 'not applicable') return t('notApplicable');
    return typeof value === 'string' && `value.${value}` in messages.en ? t(`value.${value}`) : value;
  }

  /** Fills every element under `root` that names its words with data-i18n attributes. */
  function apply(root = document) {
    for (const element of root.querySelectorAll('[data-i18n]')) element.textContent = t(element.dataset.i18n);
    // Markup of our own dictionaries only (bold and code in a footnote), never of a results file.
    for (const element of root.querySelectorAll('[data-i18n-html]')) element.innerHTML = t(element.dataset.i18nHtml);
    for (const element of root.querySelectorAll('[data-i18n-title]')) element.title = t(element.dataset.i18nTitle);
    for (const element of root.querySelectorAll('[data-i18n-aria-label]')) {
      element.setAttribute('aria-label', t(element.dataset.i18nAriaLabel));
    }
    if (root === document) {
      document.documentElement.lang = lang;
      const title = document.documentElement.dataset.i18nDocTitle;
      if (title) document.title = t(title);
      for (const button of document.querySelectorAll('[data-set-lang]')) {
        button.setAttribute('aria-pressed', String(button.dataset.setLang === lang));
      }
    }
  }

  /** Shows `next` ('en' or 'ko'), remembers it, and lets every page script redraw. */
  function setLanguage(next) {
    if (!LANGUAGES.includes(next)) return;
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Not remembered, but still switched.
    }
    if (next === lang) return;
    lang = next;
    apply();
    listeners.forEach((listener) => listener(lang));
  }

  /** `listener(lang)` after every switch; the page redraws what its scripts wrote. */
  function onChange(listener) {
    listeners.push(listener);
  }

  /** The switch's buttons (`data-set-lang`) and the first fill of the page. */
  function start() {
    for (const button of document.querySelectorAll('[data-set-lang]')) {
      button.addEventListener('click', () => setLanguage(button.dataset.setLang));
    }
    apply();
  }

  // As soon as the page is parsed ("interactive"), before its module and deferred scripts
  // run: they may fill elements inside the static words (the wall's #protocol).
  if (typeof document === 'undefined') {
    // Not a page: nothing to fill.
  } else if (document.readyState === 'loading') {
    document.addEventListener('readystatechange', () => { if (document.readyState === 'interactive') start(); }, { once: true });
  } else {
    start();
  }

  pushlab.i18n = { t, apply, setLanguage, onChange, language: () => lang };
  pushlab.valueText = valueText;
})(window.pushlab = window.pushlab || {});
