const numbers = new Intl.NumberFormat('en-US');

/** 1234567 → "1,234,567" */
export const formatNumber = (value: number): string => numbers.format(value);

/** An ISO instant → "2025-03-01 12:34:56 UTC" (the pages show every time in UTC). */
export const formatTime = (iso: string): string => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
