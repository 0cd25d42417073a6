// Files the console hands to the browser (exports): through an object URL
// and a clicked link, as no inline script may run under the api's CSP.

/** Saves `blob` as a download called `name`. */
export function saveFile(blob: Blob, name: string): void {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  // The browser has taken the file once the click is handled; free it soon after.
  setTimeout(() => URL.revokeObjectURL(href), 1000);
}

/** The file name a `Content-Disposition` header gives, else `fallback`. */
export function dispositionName(header: string | null, fallback: string): string {
  return /filename="?([^";]+)"?/i.exec(header ?? '')?.[1] ?? fallback;
}

/** Saves the body of `res` under the name the api gives it (else
 * `fallback`); returns the name used. */
export async function saveResponse(res: Response, fallback: string): Promise<string> {
  const name = dispositionName(res.headers.get('Content-Disposition'), fallback);
  saveFile(await res.blob(), name);
  return name;
}
