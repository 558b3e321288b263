import type { AppDeps } from '../api/router.js';

/** A workflow's page in the Temporal Web UI, when the pages know where that UI is. */
export function workflowUrl(deps: Pick<AppDeps, 'temporal' | 'temporalUiUrl'>, workflowId: string): string | undefined {
  if (!deps.temporalUiUrl) return undefined;
  const base = deps.temporalUiUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(deps.temporal.options.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
