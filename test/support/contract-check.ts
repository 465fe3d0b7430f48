// Checks every response a test platform sends against the operation the OpenAPI document declares for it: the status must be declared, and a JSON answer must match its schema. Installed by startTestPlatform only, never in production.
import { Ajv, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

/** What a check found: one sentence per response that broke the contract. */
export interface ContractCheck {
  readonly violations: string[];
}

/** `/v1/payments/:id` → `/v1/payments/{id}`, as the document names paths. */
function documentPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The declared response for `status`: exact, then its class (`4XX`), then `default`. */
function declaredStatus(operation: Operation, status: number): string | undefined {
  const responses = operation.responses ?? {};
  for (const key of [String(status), `${String(status)[0]}XX`, 'default']) {
    if (key in responses) return key;
  }
  return undefined;
}

function pointer(...segments: string[]): string {
  return segments.map((segment) => segment.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

/**
 * Adds an onSend hook to `app` (before it is ready) that records every response that does not match the
 * document. Hidden routes (not in the document) are not checked; unknown paths answer 404 from the catalog.
 */
export function installContractCheck(app: FastifyInstance): ContractCheck {
  const violations: string[] = [];
  let document: OpenApiDocument | undefined;
  const ajv = new Ajv({ strict: false, allErrors: true });
  // A CommonJS module: its default export arrives as the module object under Node's ESM loader.
  (formats as unknown as { default: (ajv: Ajv) => void }).default(ajv);
  const validators = new Map<string, ValidateFunction>();

  const validatorFor = (reference: string): ValidateFunction => {
    const known = validators.get(reference);
    if (known !== undefined) return known;
    const validate = ajv.compile({ $ref: `openapi.json#/${reference}` });
    validators.set(reference, validate);
    return validate;
  };

  app.addHook('onSend', async (request, reply, payload) => {
    const url = request.routeOptions.url;
    if (url === undefined) return payload;
    if (document === undefined) {
      document = JSON.parse(JSON.stringify(app.swagger())) as OpenApiDocument;
      ajv.addSchema(document as object, 'openapi.json');
    }
    const path = documentPath(url);
    const method = request.method.toLowerCase();
    const operation = document.paths[path]?.[method === 'head' ? 'get' : method];
    if (operation === undefined) return payload;
    const route = `${request.method} ${path}`;
    const status = declaredStatus(operation, reply.statusCode);
    if (status === undefined) {
      violations.push(`${route}: status ${reply.statusCode} is not declared`);
      return payload;
    }
    const content = operation.responses?.[status]?.content ?? {};
    const type = String(reply.getHeader('content-type') ?? '');
    const mediaType = Object.keys(content).find((name) => type.startsWith(name));
    if (Object.keys(content).length > 0 && mediaType === undefined) {
      violations.push(`${route} ${reply.statusCode}: content-type ${type} is not declared`);
      return payload;
    }
    if (mediaType !== 'application/json' || typeof payload !== 'string' || request.method === 'HEAD') {
      return payload;
    }
    const validate = validatorFor(
      pointer('paths', path, method, 'responses', status, 'content', mediaType, 'schema'),
    );
    if (!validate(JSON.parse(payload))) {
      violations.push(`${route} ${reply.statusCode}: ${ajv.errorsText(validate.errors)} in ${payload}`);
    }
    return payload;
  });
  return { violations };
}
