// Types of the API's bodies, generated from schemas/openapi.json
// (`npm run api-types`); pages import them from here.
import type { components } from './schema';

export type Schemas = components['schemas'];

/** One problem found in a request (`errors` of a problem+json answer). */
export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem, as every 4xx and 5xx of the API answers. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: FieldError[];
}

/** A page of a list endpoint. */
export interface Page<T> {
  items: T[];
  total?: number;
  limit?: number;
  offset?: number;
}
