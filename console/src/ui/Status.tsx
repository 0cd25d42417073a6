/** A run's, step's or delivery's status as a coloured word (never colour alone). */
export function StatusBadge({ status }: { status: string | null | undefined }) {
  const s = status ?? 'unknown';
  return <span className={`badge status-${s.replace(/[^a-z_]/g, '')}`}>{s.replace(/_/g, ' ')}</span>;
}

export function Loading({ what }: { what?: string }) {
  return (
    <p className="loading" role="status">
      Loading{what ? ` ${what}` : ''}…
    </p>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="empty">{children}</div>;
}
