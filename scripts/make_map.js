#!/usr/bin/env node
/* Converts Natural Earth 110m country outlines (the npm package world-atlas,
 * TopoJSON) once into SVG path strings keyed by the project's region codes
 * (ISO 3166-1 alpha-2, UK for GB), projected with Equal Earth. The output,
 * dashboard/map.json, is committed; run scripts/make_map.sh to regenerate.
 *
 *   node scripts/make_map.js WORLD_ATLAS_DIR ISO_3166_1_DIR > dashboard/map.json
 */
'use strict';
const path = require('path');

const atlasDir = process.argv[2];
const isoDir = process.argv[3];
if (!atlasDir || !isoDir) {
    process.stderr.write('usage: make_map.js WORLD_ATLAS_DIR ISO_3166_1_DIR\n');
    process.exit(64);
}
const topo = require(path.resolve(atlasDir, 'countries-110m.json'));
const iso = require(path.resolve(isoDir, 'dist', 'index.js'));

/* Features without a numeric ISO code in Natural Earth. */
const byName = { 'Kosovo': 'XK', 'N. Cyprus': 'CY', 'Somaliland': 'SO' };

function regionOf(g) {
    let a2 = null;
    if (g.id) {
        const c = iso.whereNumeric(g.id);
        if (c) a2 = c.alpha2;
    }
    if (!a2) a2 = byName[g.properties.name] || null;
    if (a2 === 'GB') a2 = 'UK';
    return a2;
}

/* Equal Earth (Šavrič, Patterson, Jenny 2018). */
const A1 = 1.340264, A2 = -0.081106, A3 = 0.000893, A4 = 0.003796, M = Math.sqrt(3) / 2;
function project(lon, lat) {
    const lam = lon * Math.PI / 180, phi = lat * Math.PI / 180;
    const t = Math.asin(M * Math.sin(phi)), t2 = t * t, t6 = t2 * t2 * t2;
    const x = lam * Math.cos(t) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)));
    const y = t * (A1 + A2 * t2 + t6 * (A3 + A4 * t2));
    return [x, y];
}
const XMAX = project(180, 0)[0];
const YTOP = project(0, 84)[1], YBOT = project(0, -58)[1];
const WIDTH = 1000;
const S = WIDTH / (2 * XMAX);
const HEIGHT = Math.round((YTOP - YBOT) * S);

/* Decode the quantized, delta-encoded arcs. */
const [sx, sy] = topo.transform.scale, [tx, ty] = topo.transform.translate;
const arcs = topo.arcs.map((arc) => {
    let x = 0, y = 0;
    return arc.map(([dx, dy]) => {
        x += dx; y += dy;
        return [x * sx + tx, y * sy + ty];
    });
});

function ringPoints(ring) {
    const pts = [];
    ring.forEach((i, k) => {
        const a = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
        (k === 0 ? a : a.slice(1)).forEach((p) => pts.push(p));
    });
    return pts;
}

/* A ring that crosses the antimeridian (Fiji, Chukotka) would draw a line
 * across the whole map: clamp its minority side onto the meridian. */
function unwrap(pts) {
    let jumps = false;
    for (let i = 1; i < pts.length && !jumps; i++) jumps = Math.abs(pts[i][0] - pts[i - 1][0]) > 180;
    if (!jumps) return pts;
    const east = pts.filter((p) => p[0] > 0).length * 2 >= pts.length;
    return pts.map(([lon, lat]) => [east ? (lon < 0 ? 180 : lon) : (lon > 0 ? -180 : lon), lat]);
}

function ringPath(ring) {
    let d = '', last = '';
    const pts = unwrap(ringPoints(ring));
    for (const [lon, lat] of pts) {
        const [x, y] = project(lon, lat);
        const px = ((x + XMAX) * S).toFixed(1), py = ((YTOP - y) * S).toFixed(1);
        const cur = px + ' ' + py;
        if (cur === last) continue;
        d += (d ? 'L' : 'M') + px + ' ' + py;
        last = cur;
    }
    return d + 'Z';
}

const out = [];
for (const g of topo.objects.countries.geometries) {
    if (g.id === '010') continue; /* Antarctica: no job market to colour */
    const polys = g.type === 'Polygon' ? [g.arcs] : g.type === 'MultiPolygon' ? g.arcs : [];
    const d = polys.map((p) => p.map(ringPath).join('')).join('');
    const region = regionOf(g);
    if (!region) {
        process.stderr.write('make_map: no region code for ' + g.properties.name + '\n');
        continue;
    }
    out.push({ region, name: g.properties.name, d });
}
out.sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : 0));
process.stdout.write(JSON.stringify({
    source: 'Natural Earth 110m via world-atlas 2, Equal Earth projection',
    width: WIDTH, height: HEIGHT, countries: out,
}) + '\n');
