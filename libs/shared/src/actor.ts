export const ROLES = ['consumer', 'merchant', 'regulator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, from the verified JWT. */
export interface Actor {
  role: Role;
  sub: string;
  merchantId?: string;
  officeId?: string;
}
