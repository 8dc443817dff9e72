/**
 * Geofence maths: circles and polygons inside / outside / on the edge, the poles, the antimeridian, tiny and concave
 * polygons, degenerate fences refused, and property tests (seeded fast-check) against the spherical destination
 * formula and rotation about the polar axis.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { distanceMetres, distanceToFence, EARTH_RADIUS_M, type LatLon, validateFence } from './agents.geo.ts';
import type { Geofence } from './agents.tables.ts';

const RAD = Math.PI / 180;
const ONE_DEGREE_M = EARTH_RADIUS_M * RAD; // 111,195.08 m

/**
 * The point `distance` metres from `from` along the initial bearing `bearing` (degrees), on the same sphere. In
 * vectors (the textbook asin form loses a decimetre near the poles): q = p cos δ + (north cos θ + east sin θ) sin δ.
 */
function destination(from: LatLon, bearing: number, distance: number): LatLon {
  const phi = from.lat * RAD;
  const lambda = from.lon * RAD;
  const theta = bearing * RAD;
  const delta = distance / EARTH_RADIUS_M;
  const p = [Math.cos(phi) * Math.cos(lambda), Math.cos(phi) * Math.sin(lambda), Math.sin(phi)];
  const north = [-Math.sin(phi) * Math.cos(lambda), -Math.sin(phi) * Math.sin(lambda), Math.cos(phi)];
  const east = [-Math.sin(lambda), Math.cos(lambda), 0];
  const q = p.map(
    (_, i) =>
      p[i]! * Math.cos(delta) + (north[i]! * Math.cos(theta) + east[i]! * Math.sin(theta)) * Math.sin(delta),
  ) as [number, number, number];
  return {
    lat: Math.atan2(q[2], Math.hypot(q[0], q[1])) / RAD,
    lon: normaliseLon(Math.atan2(q[1], q[0]) / RAD),
  };
}

function normaliseLon(lon: number): number {
  const wrapped = ((((lon + 180) % 360) + 360) % 360) - 180;
  return wrapped === -180 && lon > 0 ? 180 : wrapped;
}

function regularPolygon(centre: LatLon, circumradius: number, sides: number, rotation = 0): Geofence {
  const vertices = Array.from({ length: sides }, (_, k) =>
    destination(centre, rotation + (360 * k) / sides, circumradius),
  );
  return { type: 'polygon', vertices };
}

const near = (actual: number, expected: number, tolerance: number, what = '') =>
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what} ${actual} is not within ${tolerance} of ${expected}`,
  );

describe('distance on the sphere', () => {
  test('one degree of latitude, across the antimeridian, and across the pole', () => {
    near(distanceMetres({ lat: 0, lon: 0 }, { lat: 1, lon: 0 }), 111_195.08, 0.01);
    near(distanceMetres({ lat: 0, lon: 179.9995 }, { lat: 0, lon: -179.9995 }), 0.001 * ONE_DEGREE_M, 1e-6);
    near(distanceMetres({ lat: 89.999, lon: 0 }, { lat: 89.999, lon: 180 }), 0.002 * ONE_DEGREE_M, 1e-6);
    near(distanceMetres({ lat: 0, lon: 180 }, { lat: 0, lon: -180 }), 0, 1e-6);
  });
});

describe('circle fences', () => {
  const fence: Geofence = { type: 'circle', center: { lat: -1.2864, lon: 36.8172 }, radius_m: 50 };

  test('inside, outside and on the edge', () => {
    near(distanceToFence(fence, fence.center), -50, 1e-9, 'centre');
    near(distanceToFence(fence, destination(fence.center, 30, 20)), -30, 1e-6, 'inside');
    near(distanceToFence(fence, destination(fence.center, 200, 80)), 30, 1e-6, 'outside');
    near(distanceToFence(fence, destination(fence.center, 95, 50)), 0, 1e-6, 'edge');
  });

  test('a circle astride the antimeridian', () => {
    const seam: Geofence = { type: 'circle', center: { lat: 0, lon: 179.9999 }, radius_m: 100 };
    near(
      distanceToFence(seam, { lat: 0, lon: -179.9995 }),
      0.0006 * ONE_DEGREE_M - 100,
      1e-6,
      'east of the seam',
    );
    near(distanceToFence(seam, { lat: 0, lon: -179.998 }), 0.0021 * ONE_DEGREE_M - 100, 1e-6, 'beyond');
    assert.ok(distanceToFence(seam, { lat: 0, lon: -179.9995 }) < 0);
    assert.ok(distanceToFence(seam, { lat: 0, lon: 0 }) > 20_000_000 - 1);
  });

  test('a circle around a pole holds a point across the pole', () => {
    const north: Geofence = { type: 'circle', center: { lat: 89.999, lon: 0 }, radius_m: 200 };
    near(distanceToFence(north, { lat: 89.9995, lon: 180 }), 0.0015 * ONE_DEGREE_M - 200, 1e-6);
    const south: Geofence = { type: 'circle', center: { lat: -90, lon: 0 }, radius_m: 500 };
    near(distanceToFence(south, { lat: -89.997, lon: 123 }), 0.003 * ONE_DEGREE_M - 500, 1e-6);
  });
});

describe('polygon fences', () => {
  // A 0.002° square (≈ 222 m) around a Nairobi shop, edges along meridians and parallels.
  const square: Geofence = {
    type: 'polygon',
    vertices: [
      { lat: -1.287, lon: 36.816 },
      { lat: -1.287, lon: 36.818 },
      { lat: -1.285, lon: 36.818 },
      { lat: -1.285, lon: 36.816 },
    ],
  };

  test('inside, outside and on the edge', () => {
    near(distanceToFence(square, { lat: -1.286, lon: 36.817 }), -0.001 * ONE_DEGREE_M, 0.5, 'centre');
    near(distanceToFence(square, { lat: -1.286, lon: 36.819 }), 0.001 * ONE_DEGREE_M, 0.5, 'east of it');
    near(distanceToFence(square, { lat: -1.286, lon: 36.818 }), 0, 0.01, 'on the east edge (a meridian)');
    near(distanceToFence(square, { lat: -1.287, lon: 36.816 }), 0, 1e-6, 'on a vertex');
    // Beyond a corner the nearest point is the vertex itself.
    const corner = { lat: -1.288, lon: 36.819 };
    near(
      distanceToFence(square, corner),
      distanceMetres(corner, { lat: -1.287, lon: 36.818 }),
      1e-6,
      'corner',
    );
  });

  test('the vertices’ order (clockwise or not, starting anywhere) changes nothing', () => {
    if (square.type !== 'polygon') throw new Error('square');
    const reversed: Geofence = { type: 'polygon', vertices: [...square.vertices].reverse() };
    const rotated: Geofence = {
      type: 'polygon',
      vertices: [...square.vertices.slice(2), ...square.vertices.slice(0, 2)],
    };
    for (const point of [
      { lat: -1.286, lon: 36.817 },
      { lat: -1.2885, lon: 36.8175 },
    ]) {
      near(distanceToFence(reversed, point), distanceToFence(square, point), 1e-9);
      near(distanceToFence(rotated, point), distanceToFence(square, point), 1e-9);
    }
  });

  test('a polygon spanning 179°E..179°W (the antimeridian)', () => {
    const seam: Geofence = {
      type: 'polygon',
      vertices: [
        { lat: -0.001, lon: 179.999 },
        { lat: -0.001, lon: -179.999 },
        { lat: 0.001, lon: -179.999 },
        { lat: 0.001, lon: 179.999 },
      ],
    };
    assert.deepEqual(validateFence(seam), []);
    near(distanceToFence(seam, { lat: 0, lon: 180 }), -0.001 * ONE_DEGREE_M, 0.01, 'on the seam (180)');
    near(distanceToFence(seam, { lat: 0, lon: -180 }), -0.001 * ONE_DEGREE_M, 0.01, 'on the seam (-180)');
    near(distanceToFence(seam, { lat: 0, lon: 179.9995 }), -0.0005 * ONE_DEGREE_M, 0.01, 'west half');
    near(distanceToFence(seam, { lat: 0, lon: -179.9995 }), -0.0005 * ONE_DEGREE_M, 0.01, 'east half');
    near(distanceToFence(seam, { lat: 0, lon: 179.998 }), 0.001 * ONE_DEGREE_M, 0.01, 'west of it');
    // A planar test on raw longitudes would put the whole band between 179°W and 179°E (through 0°) inside.
    assert.ok(distanceToFence(seam, { lat: 0, lon: 0 }) > 19_000_000);
    assert.ok(distanceToFence(seam, { lat: 0, lon: 90 }) > 9_000_000);
  });

  test('a polygon around the north pole, a point across the pole, and the pole itself', () => {
    const cap: Geofence = {
      type: 'polygon',
      vertices: [0, 90, 180, -90].map((lon) => ({ lat: 89.999, lon })),
    };
    assert.deepEqual(validateFence(cap), []);
    const halfDiagonal = 0.001 * ONE_DEGREE_M; // pole to a vertex
    const apothem = halfDiagonal * Math.SQRT1_2; // pole to an edge (nearly planar at this size)
    near(distanceToFence(cap, { lat: 90, lon: 0 }), -apothem, 0.01, 'the pole');
    near(
      distanceToFence(cap, { lat: 89.9995, lon: -135 }),
      -(apothem - 0.0005 * ONE_DEGREE_M),
      0.01,
      'across',
    );
    near(
      distanceToFence(cap, { lat: 89.998, lon: 45 }),
      0.002 * ONE_DEGREE_M - apothem,
      0.01,
      'beyond an edge',
    );
    near(distanceToFence(cap, { lat: 89.998, lon: 180 }), 0.001 * ONE_DEGREE_M, 0.01, 'beyond a vertex');
    // A south-pole fence's point on the far side of the pole.
    const south = regularPolygon({ lat: -90, lon: 0 }, 300, 6);
    assert.ok(distanceToFence(south, { lat: -89.999, lon: 170 }) < 0);
    assert.ok(distanceToFence(south, { lat: -89.996, lon: 170 }) > 0);
  });

  test('a tiny polygon (3 m square) is valid and still told apart', () => {
    const d = 3 / ONE_DEGREE_M;
    const tiny: Geofence = {
      type: 'polygon',
      vertices: [
        { lat: 10, lon: 20 },
        { lat: 10, lon: 20 + d },
        { lat: 10 + d, lon: 20 + d },
        { lat: 10 + d, lon: 20 },
      ],
    };
    assert.deepEqual(validateFence(tiny), []);
    near(
      distanceToFence(tiny, { lat: 10 + d / 2, lon: 20 + d / 2 }),
      -1.5 * Math.cos(10 * RAD),
      0.01,
      'centre',
    );
    near(distanceToFence(tiny, { lat: 10 + d / 2, lon: 20 + 2 * d }), 3 * Math.cos(10 * RAD), 0.01, 'east');
  });

  test('a concave polygon: its notch is outside, its arms inside', () => {
    // A "U": 300 m wide, 300 m high, with a 100 m wide notch from the top down to 100 m.
    const u = 0.001;
    const origin = { lat: 51.5, lon: -0.1 };
    const k = 1 / Math.cos(origin.lat * RAD); // longitude degrees per latitude degree, for a square-ish shape
    const at = (x: number, y: number) => ({ lat: origin.lat + y * u, lon: origin.lon + x * u * k });
    const fence: Geofence = {
      type: 'polygon',
      vertices: [at(0, 0), at(3, 0), at(3, 3), at(2, 3), at(2, 1), at(1, 1), at(1, 3), at(0, 3)],
    };
    assert.deepEqual(validateFence(fence), []);
    assert.ok(distanceToFence(fence, at(1.5, 2)) > 0, 'the notch');
    near(distanceToFence(fence, at(1.5, 2)), 0.5 * u * ONE_DEGREE_M, 1, 'half the notch’s width');
    assert.ok(distanceToFence(fence, at(0.5, 2)) < 0, 'left arm');
    assert.ok(distanceToFence(fence, at(2.5, 2)) < 0, 'right arm');
    assert.ok(distanceToFence(fence, at(1.5, 0.5)) < 0, 'the base');
  });
});

describe('validateFence', () => {
  const base = { lat: -1.286, lon: 36.817 };
  const triangle = regularPolygon(base, 100, 3);
  const polygon = (vertices: LatLon[]): Geofence => ({ type: 'polygon', vertices });
  const messages = (fence: Geofence) => validateFence(fence).map((p) => `${p.field}: ${p.message}`);

  test('valid circles and polygons have no problems', () => {
    assert.deepEqual(validateFence({ type: 'circle', center: base, radius_m: 50 }), []);
    assert.deepEqual(validateFence({ type: 'circle', center: { lat: 90, lon: 180 }, radius_m: 50_000 }), []);
    assert.deepEqual(validateFence(triangle), []);
    assert.deepEqual(validateFence(regularPolygon(base, 49_000, 50)), []);
  });

  test('circles: radius and coordinates', () => {
    for (const radius_m of [0, -5, 50_001, Number.NaN])
      assert.deepEqual(messages({ type: 'circle', center: base, radius_m }), [
        'geofence.radius_m: must be more than 0 and at most 50000 m',
      ]);
    assert.deepEqual(messages({ type: 'circle', center: { lat: 91, lon: -181 }, radius_m: 10 }), [
      'geofence.center.lat: must be a latitude between -90 and 90',
      'geofence.center.lon: must be a longitude between -180 and 180',
    ]);
  });

  test('degenerate polygons are refused, each with its reason', () => {
    if (triangle.type !== 'polygon') throw new Error('triangle');
    const [a, b, c] = triangle.vertices as [LatLon, LatLon, LatLon];
    const mid = (p: LatLon, q: LatLon) => ({ lat: (p.lat + q.lat) / 2, lon: (p.lon + q.lon) / 2 });
    const cases: [string, Geofence, RegExp][] = [
      ['two vertices', polygon([a, b]), /at least 3 distinct vertices/],
      ['a repeated vertex', polygon([a, b, b]), /at least 3 distinct vertices/],
      ['closed ring of two', polygon([a, b, a]), /at least 3 distinct vertices/],
      [
        'collinear (a meridian)',
        polygon([base, { ...base, lat: base.lat + 0.001 }, { ...base, lat: base.lat + 0.002 }]),
        /no area/,
      ],
      ['a sliver 0.2 m wide', polygon([a, b, destination(mid(a, b), 0, 0.2)]), /no area/],
      [
        'a bow tie',
        polygon([
          base,
          { lat: base.lat + 0.001, lon: base.lon + 0.001 },
          { lat: base.lat, lon: base.lon + 0.001 },
          { lat: base.lat + 0.001, lon: base.lon },
        ]),
        /crosses itself/,
      ],
      ['a vertex visited twice', polygon([a, b, c, b]), /crosses itself|fold back/],
      ['a spike folding back', polygon([a, b, c, mid(b, c)]), /fold back|crosses itself/],
      ['51 vertices', regularPolygon(base, 1000, 51), /at most 50/],
      ['wider than 100 km', regularPolygon(base, 60_000, 4), /at most 100000 m across/],
      ['out of range', polygon([a, b, { lat: 95, lon: 10 }]), /latitude between -90 and 90/],
    ];
    for (const [name, fence, expected] of cases) {
      const problems = messages(fence);
      assert.equal(problems.length, 1, `${name}: ${problems.join('; ')}`);
      assert.match(problems[0]!, expected, name);
      assert.match(problems[0]!, /^geofence\.vertices/, name);
    }
    // A closing vertex equal to the first is accepted (a ring written closed).
    assert.deepEqual(validateFence(polygon([a, b, c, a])), []);
    assert.deepEqual(validateFence(polygon([a, b, c]), 'store.fence').length, 0);
    assert.equal(validateFence(polygon([a, b]), 'fence')[0]?.field, 'fence.vertices');
  });
});

describe('properties (seeded)', () => {
  const anywhere = fc.record({
    lat: fc.double({ min: -90, max: 90, noNaN: true }),
    lon: fc.double({ min: -180, max: 180, noNaN: true }),
  });
  const options = { seed: 19, numRuns: 300 };

  test('a point d metres from a circle’s centre is d − r from its edge, anywhere on Earth', () => {
    fc.assert(
      fc.property(
        anywhere,
        fc.double({ min: 1, max: 50_000, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 200_000, noNaN: true }),
        (center, radius_m, bearing, d) => {
          const fence: Geofence = { type: 'circle', center, radius_m };
          near(distanceToFence(fence, destination(center, bearing, d)), d - radius_m, 1e-3);
        },
      ),
      options,
    );
  });

  test('regular polygons anywhere (poles and antimeridian included): inside within the apothem, outside beyond the circumradius', () => {
    fc.assert(
      fc.property(
        anywhere,
        fc.integer({ min: 3, max: 50 }),
        fc.double({ min: 5, max: 40_000, noNaN: true }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 0.98, noNaN: true }),
        fc.boolean(),
        (centre, sides, circumradius, bearing, fraction, reverse) => {
          const fence = regularPolygon(centre, circumradius, sides, bearing / 7);
          if (fence.type !== 'polygon') throw new Error('polygon');
          if (reverse) fence.vertices.reverse();
          assert.deepEqual(validateFence(fence), []);
          const apothem = circumradius * Math.cos(Math.PI / sides);
          assert.ok(distanceToFence(fence, destination(centre, bearing, fraction * apothem)) < 0, 'inside');
          const outside = distanceToFence(
            fence,
            destination(centre, bearing, circumradius * (1.02 + fraction)),
          );
          assert.ok(outside > 0, 'outside');
          // The centre's distance to the edge is the apothem (up to the sphere's curvature at 40 km).
          near(distanceToFence(fence, centre), -apothem, apothem * 1e-3 + 1e-6, 'centre');
        },
      ),
      options,
    );
  });

  test('turning the Earth about its axis (across the antimeridian) changes no distance', () => {
    fc.assert(
      fc.property(
        fc.record({
          lat: fc.double({ min: -89, max: 89, noNaN: true }),
          lon: fc.double({ min: 170, max: 180, noNaN: true }),
        }),
        fc.double({ min: 10, max: 5_000, noNaN: true }),
        fc.integer({ min: 3, max: 12 }),
        fc.double({ min: 0, max: 360, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.double({ min: -360, max: 360, noNaN: true }),
        (centre, radius, sides, bearing, factor, turn) => {
          const fence = regularPolygon(centre, radius, sides);
          if (fence.type !== 'polygon') throw new Error('polygon');
          const point = destination(centre, bearing, radius * factor);
          const turnPoint = (p: LatLon) => ({ lat: p.lat, lon: normaliseLon(p.lon + turn) });
          const turned: Geofence = { type: 'polygon', vertices: fence.vertices.map(turnPoint) };
          near(distanceToFence(turned, turnPoint(point)), distanceToFence(fence, point), 1e-6);
        },
      ),
      options,
    );
  });
});
