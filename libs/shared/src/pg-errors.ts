/** PostgreSQL SQLSTATE of a driver error, or undefined. */
export function pgCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; driverError?: { code?: unknown } };
  const code = err?.driverError?.code ?? err?.code;
  return typeof code === 'string' ? code : undefined;
}

export function pgConstraint(e: unknown): string | undefined {
  const err = e as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const c = err?.driverError?.constraint ?? err?.constraint;
  return typeof c === 'string' ? c : undefined;
}

export const UNIQUE_VIOLATION = '23505';

/** PostgreSQL aborted one transaction of a lock cycle; running it again is safe. */
export const DEADLOCK_DETECTED = '40P01';
