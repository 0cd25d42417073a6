import type { FieldError, Problem } from './types';

/** An answer that was not a success; `problem` is the API's problem+json. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }

  /** Errors by field path (`/steps/0/with/command` → message). */
  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? [];
  }
}

/** Reads a failed response into a [`Problem`], whatever its body. */
export async function problemOf(res: Response): Promise<Problem> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as Partial<Problem>;
    if (body && typeof body === 'object' && typeof body.title === 'string') {
      return { ...body, title: body.title, status: body.status ?? res.status };
    }
  } catch {
    // not JSON: fall through
  }
  return {
    title: res.statusText || `HTTP ${res.status}`,
    status: res.status,
    detail: text.slice(0, 300) || undefined,
  };
}

/** A short sentence for any error a query or mutation threw. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.problem.detail ?? error.problem.title;
  if (error instanceof Error) return error.message;
  return String(error);
}
