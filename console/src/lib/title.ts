import { useEffect } from 'react';

/** Sets the document title: "<page> · OpsConductor". */
export function useTitle(page: string) {
  useEffect(() => {
    document.title = page ? `${page} · OpsConductor` : 'OpsConductor';
  }, [page]);
}
