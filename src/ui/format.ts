const numbers = new Intl.NumberFormat('en-US');

/** 1234567 → "1,234,567" */
export const formatNumber = (value: number): string => numbers.format(value);
