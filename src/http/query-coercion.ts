/**
 * The validators of the API: strict types everywhere (a JSON body's `"100"` is not the number 100), but in
 * a query string, which is text by nature, a value is read as the type its schema declares, so that
 * `?limit=20` is the integer the document promises. Everything else of Fastify's ajv options is kept.
 */
import ajvCompilerModule from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type ValidatorFactory = NonNullable<
  NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']
>;

/** A Fastify validator factory: coercing for `querystring`, strict for body, params and headers. */
export function queryCoercingValidators(): ValidatorFactory {
  // Two pools, so that the two option sets never share a compiled validator.
  const strictPool = ajvCompilerModule();
  const coercingPool = ajvCompilerModule();
  const factory = (externalSchemas: unknown, options: { customOptions?: object } = {}) => {
    const strict = strictPool(externalSchemas as never, options as never);
    const coercing = coercingPool(
      externalSchemas as never,
      {
        ...options,
        customOptions: { ...options.customOptions, coerceTypes: true },
      } as never,
    );
    return (route: { httpPart?: string }) =>
      route.httpPart === 'querystring' ? coercing(route as never) : strict(route as never);
  };
  return factory as unknown as ValidatorFactory;
}
