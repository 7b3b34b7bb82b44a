import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * Builds the OpenAPI 3.1 document from the routes as they are registered, so the document cannot
 * drift from the code: paths, parameters, JSON schemas and each route's required role.
 */
export class OpenApiCollector {
  private readonly paths: Record<string, Record<string, unknown>> = {};

  add(route: RouteOptions): void {
    if (!route.url.startsWith('/api/v1')) return;
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const schema = (route.schema ?? {}) as Record<string, unknown>;
    const config = route.config as { access?: string; summary?: string } | undefined;
    const access = config?.access ?? 'public';
    for (const method of methods) {
      if (method === 'HEAD') continue;
      const op: Record<string, unknown> = {
        summary: config?.summary ?? `${method} ${path}`,
        'x-portcullis-access': access,
        security: access === 'public' ? [] : [{ bearer: [] }, { cookie: [] }],
        parameters: [
          ...paramsOf(schema.params, 'path'),
          ...paramsOf(schema.querystring, 'query'),
        ],
        responses: { default: { description: 'see error format: {"error":{"code","message"}}' } },
      };
      if (schema.body) op.requestBody = { required: true, content: { 'application/json': { schema: schema.body } } };
      (this.paths[path] ??= {})[method.toLowerCase()] = op;
    }
  }

  document(): Record<string, unknown> {
    return {
      openapi: '3.1.0',
      info: { title: 'Portcullis policy server', version: '1' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          cookie: { type: 'apiKey', in: 'cookie', name: 'portcullis_session' },
        },
      },
      paths: this.paths,
    };
  }
}

function paramsOf(schema: unknown, where: 'path' | 'query'): unknown[] {
  const props = (schema as { properties?: Record<string, unknown>; required?: string[] } | undefined)?.properties;
  if (!props) return [];
  const required = new Set((schema as { required?: string[] }).required ?? []);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}

export function openApiRoutes(collector: OpenApiCollector) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/api/docs', { config: { access: 'public', summary: 'This OpenAPI document' } }, async () => collector.document());
  };
}
