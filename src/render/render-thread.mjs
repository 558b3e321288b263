// The render thread's entry. A worker thread does not inherit the tsx loader of the process that
// starts it (nor does vitest's module runner reach it), so it registers tsx itself.
import { register } from 'tsx/esm/api';

register();
await import('./render-thread.ts');
