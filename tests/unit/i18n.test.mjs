// The pages' two languages (web/i18n.js and its dictionaries) without a browser: every
// key has its English and its Korean, `t` fills its parameters and falls back to English,
// and every figure the committed results files carry has its Korean label and tooltip.
// What a page shows in a Korean browser is tests/e2e/korean.test.mjs's.
//
// Run: node --test tests/unit/   (part of `just test`)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, loadScripts } from './format-script.mjs';

const DICTIONARIES = ['web/i18n-demo.js', 'web/i18n-wall.js', 'web/i18n-report.js', 'web/i18n-report-ko.js', 'web/i18n-figures.js'];
const pushlab = loadScripts('web/format.js', ...DICTIONARIES, 'web/i18n.js');

test('every key has both languages', () => {
  const en = Object.keys(pushlab.messages.en).sort();
  const ko = Object.keys(pushlab.messages.ko).sort();
  assert.deepEqual(en.filter((k) => !ko.includes(k)), [], 'keys without Korean');
  assert.deepEqual(ko.filter((k) => !en.includes(k)), [], 'keys without English');
  // A Korean value is Hangul, or only placeholders and names (`{name} (RTT {rtt})`, `SSE`): no English word in it.
  for (const key of ko) {
    const value = String(pushlab.messages.ko[key]).replace(/\{\w+\}/g, '');
    assert.ok(/[\uac00-\ud7a3]/.test(value) || !/\b[a-z]{3,}\b/.test(value), `${key}: ${value}`);
  }
});

test('t fills parameters, counts plurals, and falls back to English, then to the key', () => {
  const { t, language } = pushlab.i18n;
  assert.equal(language(), 'en', 'outside a page: English');
  assert.equal(t('demo.rateStatus', { rate: 20 }), 'server: 20 ticks/s');
  assert.equal(t('panel.resets', { n: 1 }), '; 1 reset (server restarted)');
  assert.equal(t('panel.resets', { n: 2 }), '; 2 resets (server restarted)');
  assert.equal(t('demo.rateStatus'), 'server: {rate} ticks/s', 'a missing parameter stays visible');
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.equal(pushlab.valueText('not measured'), 'not measured');
  assert.equal(pushlab.valueText('works'), 'works');
  assert.equal(pushlab.valueText('lan'), 'lan', 'a value the dictionaries do not know stays as written');
});

test('every figure of the committed results files has its Korean label and tooltip', () => {
  const dir = path.join(ROOT, 'docs/results');
  const missing = new Set();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const catalogue = JSON.parse(readFileSync(path.join(dir, file), 'utf8')).catalogue;
    if (!catalogue) continue;
    for (const figure of [...catalogue.figures, ...(catalogue.faults ?? []), ...(catalogue.calibration ?? [])]) {
      const ko = pushlab.figuresKo.figures[figure.key];
      if (!ko || !ko[0] || !ko[2]) missing.add(`${file}: ${figure.key}`);
    }
    for (const group of catalogue.groups) if (!pushlab.figuresKo.groups[group.key]) missing.add(`${file}: group ${group.key}`);
    for (const unit of Object.keys(catalogue.units ?? {})) if (!pushlab.figuresKo.units[unit]) missing.add(`${file}: unit ${unit}`);
  }
  assert.deepEqual([...missing], []);
});
