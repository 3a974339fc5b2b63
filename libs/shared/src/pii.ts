/**
 * Personal data at rest is sealed with sealFor / openFor (crypto/sealed.ts, purpose 'phone' for
 * contact phones). This file keeps what merchants see instead.
 */

/** `13812345678` → `138****5678`, as merchants see it. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  if (digits.length < 7) return '*'.repeat(digits.length);
  return `${digits.slice(0, 3)}${'*'.repeat(digits.length - 7)}${digits.slice(-4)}`;
}
