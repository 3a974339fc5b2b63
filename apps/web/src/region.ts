/**
 * A region as officers and merchants know it: "西湖区 330106", its GB/T 2260 name (the API's
 * regionName) and then its code; the code alone when the dataset does not name it (the API then
 * answers the code itself as the name) or no name came.
 */
export function regionLabel(code: string, name?: string | null): string {
  return name && name !== code ? `${name} ${code}` : code;
}
