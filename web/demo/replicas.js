// A broker-fed cluster (`just cluster`, docs/cluster.md): which server each panel is on.
//
// `?replicas=http://127.0.0.1:3001,http://127.0.0.1:3002` spreads the panels over
// those servers, one after the other; each panel then says which replica answers it
// (the `cluster.replica` of that server's /api/stats). Without the parameter every
// panel talks to the page's own server, and a cluster member still names itself.

/** The servers of `?replicas=` as base URLs ending in '/', or an error naming the bad one. */
export function replicaBases(search) {
  const list = new URLSearchParams(search).get('replicas');
  if (!list) return { bases: [] };
  const bases = [];
  for (const entry of list.split(',').map((s) => s.trim()).filter(Boolean)) {
    let url;
    try {
      url = new URL(entry);
    } catch {
      return { error: `replicas: ${JSON.stringify(entry)} is not a URL (e.g. http://127.0.0.1:3001)` };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { error: `replicas: ${JSON.stringify(entry)} is not an http(s) URL` };
    }
    bases.push(`${url.origin}/`);
  }
  return { bases };
}

/** Puts panel i on bases[i mod n] (none: the page's server) and labels each with its server. */
export async function placePanels(panels, bases, pageStats) {
  await Promise.all(panels.map(async (panel, i) => {
    const base = bases.length ? bases[i % bases.length] : null;
    panel.client.base = base;
    const label = panel.root.querySelector('.replica');
    label.textContent = describe(base ? await statsOf(base) : pageStats, base);
  }));
}

async function statsOf(base) {
  try {
    const response = await fetch(`${base}api/stats`, { cache: 'no-store' });
    return response.ok ? await response.json() : { error: `answered ${response.status}` };
  } catch (error) {
    return { error: error.message };
  }
}

function describe(stats, base) {
  const where = base ? ` at ${new URL(base).host}` : '';
  if (stats.error) return `server${where} unreachable (${stats.error})`;
  if (!stats.cluster) return base ? `single server${where}` : '';
  return `on ${stats.cluster.replica} (${stats.cluster.role})${where}`;
}
