import { formatTime } from '../format.js';

/** An instant, readable and machine-readable. */
export const Time = ({ iso }: { iso: string }) => <time datetime={iso}>{formatTime(iso)}</time>;
