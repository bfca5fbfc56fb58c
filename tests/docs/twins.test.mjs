// The Korean docs stay in step with their English twins (what that means is at the top
// of twins.mjs): one test per check per pair, naming the first difference; then the same
// functions on a small fixture, where the answer is known.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { docFiles, ROOT } from './run.mjs';
import {
  HANGUL_MAJORITY, REQUIRED_TWINS, commandKeys, englishTwin, figureKeys, firstDifference,
  hangulShare, headingLevels, linksNearTop, missingFrom, strayQuantities,
} from './twins.mjs';

const read = (file) => readFileSync(path.join(ROOT, file), 'utf8');
const korean = docFiles(ROOT).filter((f) => englishTwin(f) !== null);

describe('Korean twins', () => {
  test('every required Korean doc exists', () => {
    const missing = REQUIRED_TWINS.filter(([ko]) => !existsSync(path.join(ROOT, ko))).map(([ko]) => ko);
    assert.deepEqual(missing, [], `missing: ${missing.join(', ')}`);
  });

  for (const ko of korean) {
    const en = englishTwin(ko);
    describe(`${ko} ↔ ${en}`, () => {
      test('has an English twin', () => assert.ok(existsSync(path.join(ROOT, en)), `${en} does not exist`));
      if (!existsSync(path.join(ROOT, en))) return;
      const koText = read(ko);
      const enText = read(en);

      test('the same sh commands, in the same order', () => {
        const diff = firstDifference(commandKeys(koText), commandKeys(enText));
        assert.equal(diff, null, diff && `command #${diff.index + 1} differs:\n  ${ko}: ${diff.korean}\n  ${en}: ${diff.english}`);
      });

      test('the same figure links', () => {
        const k = figureKeys(koText, ko);
        const e = figureKeys(enText, en);
        const extra = missingFrom(k, e);
        const absent = missingFrom(e, k);
        assert.ok(extra.length === 0 && absent.length === 0, [
          ...extra.map((x) => `  only in ${ko}: ${x}`), ...absent.map((x) => `  only in ${en}: ${x}`)].join('\n'));
      });

      test('no quantity the English does not state', () => {
        const stray = strayQuantities(koText, enText);
        assert.deepEqual(stray, [], `quantities in ${ko}'s prose that ${en} never states: ${stray.join(', ')}`);
      });

      test('the same heading levels, in order', () => {
        const diff = firstDifference(headingLevels(koText), headingLevels(enText));
        assert.equal(diff, null, diff && `heading #${diff.index + 1}: level ${diff.korean} in ${ko}, ${diff.english} in ${en}`);
      });

      test(`Hangul is over ${HANGUL_MAJORITY * 100} % of the prose letters`, () => {
        const { hangul, latin, share } = hangulShare(koText);
        assert.ok(share > HANGUL_MAJORITY, `${ko}: ${hangul} Hangul against ${latin} Latin letters (${(share * 100).toFixed(1)} %)`);
      });

      test('each links to the other at its top', () => {
        assert.ok(linksNearTop(koText, ko, en), `${ko} does not link ${en} in its first lines`);
        assert.ok(linksNearTop(enText, en, ko), `${en} does not link ${ko} in its first lines`);
      });
    });
  }
});

describe('twins.mjs on a fixture', () => {
  const en = [
    '[한국어](ko/a.md)', '# Title', '', 'Polling costs [501 ms](results/w.json "poll latency_us.p50") at 1 s.', '',
    '## Run it', '', '```sh', 'just compare  # about a minute  # docs-test: --duration 2s', 'just test', '```', '',
    '### Detail', 'It took 12 ms.', '',
  ].join('\n');
  const ko = [
    '[English](../a.md)', '# 제목', '', '폴링은 1 s 간격에서 [501 ms](../results/w.json "poll latency_us.p50")가 걸립니다.', '',
    '## 실행', '', '```sh', 'just compare  # 약 1분  # docs-test: --duration 2s', 'just test', '```', '',
    '### 자세히', '12 ms 걸렸습니다.', '',
  ].join('\n');

  test('a faithful twin passes every check', () => {
    assert.equal(firstDifference(commandKeys(ko), commandKeys(en)), null);
    assert.deepEqual(figureKeys(ko, 'docs/ko/a.md'), figureKeys(en, 'docs/a.md'));
    assert.deepEqual(strayQuantities(ko, en), []);
    assert.equal(firstDifference(headingLevels(ko), headingLevels(en)), null);
    assert.ok(hangulShare(ko).share > HANGUL_MAJORITY);
    assert.ok(linksNearTop(ko, 'docs/ko/a.md', 'docs/a.md') && linksNearTop(en, 'docs/a.md', 'docs/ko/a.md'));
  });

  test('a changed directive, a changed figure, a typed number and a dropped section are each caught', () => {
    const changed = ko.replace('--duration 2s', '--duration 3s');
    assert.deepEqual(firstDifference(commandKeys(changed), commandKeys(en)),
      { index: 0, korean: 'run just compare --duration 3s', english: 'run just compare --duration 2s' });
    assert.notDeepEqual(figureKeys(ko.replace('[501 ms]', '[500 ms]'), 'docs/ko/a.md'), figureKeys(en, 'docs/a.md'));
    assert.deepEqual(strayQuantities(ko.replace('12 ms 걸', '13 ms 걸'), en), ['13 ms']);
    assert.notEqual(firstDifference(headingLevels(ko.replace('### 자세히', '자세히')), headingLevels(en)), null);
  });

  test('English with a Korean title is not Korean', () => {
    assert.ok(hangulShare('# 제목\n\nThis page is all English prose with a Korean heading.').share < HANGUL_MAJORITY);
  });

  test('a command in a non-sh block, a figure in code and a link target are not prose', () => {
    const text = '```text\njust nothing\n```\n`[1 ms](results/x.json "ws latency_us.p50")` 한국어 [글](very/long/english/path.md)';
    assert.deepEqual(commandKeys(text), []);
    assert.deepEqual(figureKeys(text, 'docs/ko/x.md'), []);
    assert.equal(hangulShare(text).latin, 0);
  });

  test('the English twin of a path', () => {
    assert.equal(englishTwin('README.ko.md'), 'README.md');
    assert.equal(englishTwin('docs/ko/results.md'), 'docs/results.md');
    assert.equal(englishTwin('docs/results.md'), null);
  });
});
