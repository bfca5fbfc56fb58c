// A broker-fed cluster (`just cluster`, docs/cluster.md): which server each panel is on.
//
// `?replicas=http://127.0.0.1:3001,http://127.0.0.1:3002` spreads the panels over
// those servers, one after the other; each panel then says which replica answers it
// (the `cluster.replica` of that server's /api/stats). Without the parameter every
// panel talks to the page's own server, and a cluster member still names itself.

/** The shown language's words (web/i18n.js), looked up when written: this module also loads without a page (tests/unit). */
const t = (key, params) => window.pushlab.i18n.t(key, params);

/**
 * The servers of `?replicas=` as base URLs ending in '/', or an error naming the bad one:
 * `{ key, params }` of i18n-demo.js, so the page writes it in the shown language.
 */
export function replicaBases(search) {
  const list = new URLSearchParams(search).get('replicas');
  if (!list) return { bases: [] };
  const bases = [];
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url;
    try {
      url = new URL(entry);
    } catch {
      return { error: { key: 'demo.replicasNotUrl', params: { entry: JSON.stringify(entry) } } };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { error: { key: 'demo.replicasNotHttp', params: { entry: JSON.stringify(entry) } } };
    }
    bases.push(`${url.origin}/`);
  }
  return { bases };
}

/**
 * Puts panel i on bases[i mod n] (none: the page's server) and labels each with its
 * server. Called again on a language switch: the label is redrawn from the same stats.
 */
export async function placePanels(panels, bases, pageStats) {
  await Promise.all(panels.map(async (panel, i) => {
    const base = bases.length ? bases[i % bases.length] : null;
    panel.client.base = base;
    panel.serverStats ??= base ? await statsOf(base) : pageStats;
    panel.root.querySelector('.replica').textContent = describe(panel.serverStats, base);
  }));
}

async function statsOf(base) {
  try {
    const response = await fetch(`${base}api/stats`, { cache: 'no-store' });
    return response.ok ? await response.json() : { error: t('demo.answered', { status: response.status }) };
  } catch (error) {
    return { error: error.message };
  }
}

function describe(stats, base) {
  const where = base ? t('demo.at', { host: new URL(base).host }) : '';
  if (stats.error) return t('demo.serverUnreachable', { where, error: stats.error });
  if (!stats.cluster) return base ? t('demo.singleServer', { where }) : '';
  return t('demo.onReplica', { replica: stats.cluster.replica, role: stats.cluster.role, where });
}
