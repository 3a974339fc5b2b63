import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { DICT } from './dict';
import type { DictKey } from './dict';

export type Lang = 'zh' | 'en';
export const LOCALES: Record<Lang, string> = { zh: 'zh-CN', en: 'en' };
/** Deadlines are set in Shanghai time (working days, Asia/Shanghai); show them the same way. */
export const TIME_ZONE = 'Asia/Shanghai';

const KEY = 'hejie.lang';

function initialLang(): Lang {
  const saved = localStorage.getItem(KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  return navigator.language?.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

export type Vars = Record<string, string | number>;

export interface I18n {
  lang: Lang;
  locale: string;
  setLang(l: Lang): void;
  /** The phrase in the current language, with `{name}` placeholders filled in. */
  t(key: DictKey, vars?: Vars): string;
  /** An enum value's label (`status.resolved`, `category.quality`…), or the raw value. */
  label(group: string, value: string | null | undefined): string;
  /** The label if the dictionary has one, else null. */
  maybe(group: string, value: string | null | undefined): string | null;
  /**
   * A demand's or offer's type in words: a `refund` reads "full refund" only when its amount is
   * the amount paid (`paidMinor`), otherwise plain "refund".
   */
  demand(type: string | null | undefined, amountMinor?: number | null, paidMinor?: number): string;
  money(minor: number | null | undefined, currency?: string): string;
  number(n: number, opts?: Intl.NumberFormatOptions): string;
  percent(rate: number | null | undefined): string;
  dateTime(iso: string | null | undefined): string;
  date(iso: string | null | undefined): string;
  /** "2天4小时" / "3h 12m" / "00:41:07": a duration for countdowns. */
  duration(ms: number): string;
}

const I18nContext = createContext<I18n | null>(null);

/** Minor-unit digits of a currency (2 for CNY, 0 for JPY), from Intl itself. */
export function currencyDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

function fill(s: string, vars?: Vars): string {
  return vars ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m)) : s;
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(KEY, l);
    setLangState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = LOCALES[lang];
    // The title names the page too: App.tsx sets it per route, in this language.
  }, [lang]);

  const value = useMemo<I18n>(() => {
    const locale = LOCALES[lang];
    const idx = lang === 'zh' ? 0 : 1;
    const dtf = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: TIME_ZONE,
    });
    const df = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: TIME_ZONE });
    const pf = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
    const t = (key: DictKey, vars?: Vars) => fill(DICT[key][idx], vars);
    const maybe = (group: string, value: string | null | undefined) => {
      if (value === null || value === undefined || value === '') return null;
      const entry = (DICT as Record<string, readonly [string, string]>)[`${group}.${value}`];
      return entry ? entry[idx] : null;
    };
    const label = (group: string, value: string | null | undefined) => {
      if (value === null || value === undefined || value === '') return '—';
      return maybe(group, value) ?? value.replace(/_/g, ' ');
    };
    return {
      lang,
      locale,
      setLang,
      t,
      label,
      maybe,
      demand: (type, amountMinor, paidMinor) =>
        label(
          'demand',
          type === 'refund' &&
            typeof amountMinor === 'number' &&
            paidMinor !== undefined &&
            amountMinor === paidMinor
            ? 'full_refund'
            : type,
        ),
      money: (minor, currency = 'CNY') => {
        if (minor === null || minor === undefined) return '—';
        const digits = currencyDigits(currency);
        return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(
          minor / 10 ** digits,
        );
      },
      number: (n, opts) => new Intl.NumberFormat(locale, opts).format(n),
      // null is "no data" (nothing to divide by), never shown like 0 %.
      percent: (rate) =>
        rate === null || rate === undefined ? t('stats.noData') : pf.format(rate),
      dateTime: (iso) => (iso ? dtf.format(new Date(iso)) : '—'),
      date: (iso) => (iso ? df.format(new Date(iso)) : '—'),
      duration: (ms) => {
        const abs = Math.max(0, Math.abs(ms));
        const s = Math.floor(abs / 1000);
        const d = Math.floor(s / 86400);
        const h = Math.floor((s % 86400) / 3600);
        const m = Math.floor((s % 3600) / 60);
        const sec = s % 60;
        const nf = new Intl.NumberFormat(locale);
        if (d > 0) return t('dur.dh', { d: nf.format(d), h: nf.format(h) });
        if (h > 0) return t('dur.hm', { h: nf.format(h), m: nf.format(m) });
        return t('dur.ms', { m: nf.format(m), s: String(sec).padStart(2, '0') });
      },
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const ctx = useContext(I18nContext);
  if (!ctx) throw new Error('useI18n outside I18nProvider');
  return ctx;
}

/** Parses what a person types as an amount ("12.5", "12,50", "¥12") into minor units. */
export function parseAmount(input: string, currency = 'CNY'): number | null {
  const cleaned = input.replace(/[^\d.,]/g, '').replace(',', '.');
  if (!/^\d+(\.\d*)?$/.test(cleaned)) return null;
  const digits = currencyDigits(currency);
  const [whole, frac = ''] = cleaned.split('.');
  if (frac.length > digits) return null;
  return Number(whole) * 10 ** digits + Number((frac + '0'.repeat(digits)).slice(0, digits) || 0);
}
