import { createRoute, z } from '@hono/zod-openapi';
import { getGroup } from '../../db/groups.js';
import { finishJob, getJob, listJobs, publicJob } from '../../db/jobs.js';
import { ConflictError } from '../../domain/errors.js';
import { decodeCursor } from '../../domain/pagination.js';
import { requestCancel } from '../../temporal/cancel-workflow.js';
import { checkGeneration, startGeneration } from '../../temporal/start-job.js';
import { type AppDeps, newRouter } from '../router.js';
import { errorResponses, IdParams, jsonBody, jsonResponse, pageOf, security } from '../schemas/common.js';
import { GenerationBody, JobListQuery, JobSchema } from '../schemas/jobs.js';

const tags = ['Jobs'];

export function jobRoutes(deps: AppDeps) {
  const { sql, temporal } = deps;
  const app = newRouter();

  app.openapi(
    createRoute({ method: 'post', path: '/groups/{id}/generations', tags: ['Groups', ...tags], security,
      description: 'Generates `quantity` new codes from `format` (which then becomes the group\'s format) or from the group\'s format, as a durable job.',
      request: { params: IdParams, body: jsonBody(GenerationBody) },
      responses: { 202: jsonResponse('The job, running', JobSchema), ...errorResponses } }),
    async (c) => {
      const { quantity, format: given } = c.req.valid('json');
      const group = await getGroup(sql, c.req.valid('param').id);
      const format = await checkGeneration(sql, given ?? group.format, quantity);
      return c.json(publicJob(await startGeneration(deps, group, format, quantity)), 202);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/jobs', tags, security, description: 'Newest first.', request: { query: JobListQuery },
      responses: { 200: jsonResponse('Jobs', pageOf(JobSchema)), ...errorResponses } }),
    async (c) => {
      const { groupId, limit, cursor } = c.req.valid('query');
      const beforeId = decodeCursor(cursor, z.string().regex(/^\d+$/));
      return c.json(await listJobs(sql, { groupId, limit, beforeId }), 200);
    },
  );

  app.openapi(
    createRoute({ method: 'get', path: '/jobs/{id}', tags, security, request: { params: IdParams },
      responses: { 200: jsonResponse('The job', JobSchema), ...errorResponses } }),
    async (c) => c.json(publicJob(await getJob(sql, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({ method: 'post', path: '/jobs/{id}/cancel', tags, security,
      description: 'Stops a running job; codes it added already stay.',
      request: { params: IdParams },
      responses: { 202: jsonResponse('The job, being cancelled', JobSchema), ...errorResponses } }),
    async (c) => {
      const job = await getJob(sql, c.req.valid('param').id);
      if (job.status !== 'running') throw new ConflictError(`Job ${job.id} is ${job.status}; only a running job can be cancelled.`);
      if (!(await requestCancel(temporal, job.workflowId))) {
        // no running workflow (never started, or closed without ending the job) ends it here; one that ended it meanwhile is a 409
        const ended = await finishJob(sql, job.id, { status: 'cancelled', reason: 'cancelled while its workflow was not running' });
        if (ended.status !== 'cancelled') throw new ConflictError(`Job ${job.id} is ${ended.status} already.`);
      }
      return c.json(publicJob(await getJob(sql, job.id)), 202);
    },
  );

  return app;
}
