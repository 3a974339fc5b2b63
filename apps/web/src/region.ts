/**
 * The GB/T 2260 name of a region, or null when it has none: the API answers the code itself as
 * `regionName` for a code the dataset does not know, and that is no name to show.
 */
export function regionNameOf(code: string, name?: string | null): string | null {
  return name && name !== code ? name : null;
}

/** A region as officers and merchants know it: "西湖区 330106", or the code alone unnamed. */
export function regionLabel(code: string, name?: string | null): string {
  const named = regionNameOf(code, name);
  return named ? `${named} ${code}` : code;
}
