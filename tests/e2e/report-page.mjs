// What the report tests share: opening the page, and reading its charts and tables back
// as data (pixels per transport colour, cell text), so a test asserts what was drawn.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { newPage, FIXTURES } from './helpers.mjs';

export const fixture = (name) => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
/** A chart's canvas counts as drawn when it holds this many pixels in transport colours
 * beyond what its legend swatches alone (4 × ~12×12 px) could account for. */
export const MIN_DATA_PIXELS = 1500;

/** Per chart: its id, title, and how many pixels of each transport's colour its canvas holds. */
export function chartPixels(page) {
  return page.evaluate(() => {
    const css = getComputedStyle(document.documentElement);
    const palette = ['poll', 'long-poll', 'sse', 'ws'].map((t) => {
      const hex = css.getPropertyValue(`--c-${t}`).trim();
      return [t, [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16))];
    });
    // A chart with nothing measured has no canvas: it says so instead.
    return [...document.querySelectorAll('figure.chart')].filter((figure) => figure.querySelector('canvas')).map((figure) => {
      const canvas = figure.querySelector('canvas');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const pixels = Object.fromEntries(palette.map(([t]) => [t, 0]));
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        for (const [t, [r, g, b]] of palette) {
          if (Math.abs(data[i] - r) < 10 && Math.abs(data[i + 1] - g) < 10 && Math.abs(data[i + 2] - b) < 10) pixels[t]++;
        }
      }
      return { chart: figure.dataset.chart, title: figure.querySelector('h3').textContent, pixels };
    });
  });
}

export function assertAllDrawn(charts) {
  for (const { title, pixels } of charts) {
    const total = Object.values(pixels).reduce((a, b) => a + b, 0);
    assert.ok(total > MIN_DATA_PIXELS, `chart "${title}" looks blank: ${JSON.stringify(pixels)}`);
  }
}

/** The table as text: header cells, then each body row's cells. */
export function tableText(page) {
  return page.evaluate(() => ({
    head: [...document.querySelectorAll('#numbers-table thead th')].map((th) => th.innerText.replace(/\s+/g, ' ').trim()),
    rows: [...document.querySelectorAll('#numbers-table tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim())),
  }));
}

/** The calibration section: whether the file had one, and its table's rows. */
export function calibrationText(page) {
  return page.evaluate(() => ({
    measured: document.querySelector('#calibration').dataset.measured,
    hidden: document.querySelector('#calibration').hidden,
    reading: document.querySelector('#calibration-reading').textContent,
    rows: [...document.querySelectorAll('#calibration-table tbody tr')].map((tr) => [...tr.cells].map((c) => c.innerText.trim())),
  }));
}

/** Each chart's y-axis title, by chart id. */
export function axisTitles(page) {
  return page.$$eval('figure.chart', (figures) => Object.fromEntries(figures.map((f) =>
    [f.dataset.chart, Chart.getChart(f.querySelector('canvas')).options.scales.y.title.text])));
}

/** Opens `results` (an object) in `page` as if the user picked a file called `name`. */
export async function pick(page, name, results) {
  await page.setInputFiles('#file-input', { name, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(results)) });
  await page.waitForFunction((source) => document.body.dataset.source === source, name);
}

export async function openReport(browser, url, viewport) {
  const page = await newPage(browser, viewport);
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.state && document.body.dataset.state !== 'loading');
  return page;
}
