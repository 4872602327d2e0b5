import type { ReactNode } from 'react';

/** A tab whose view is not in this build yet: says what it will hold. */
export function PlannedTab({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="planned">
      <h2>{title}</h2>
      <p>{children}</p>
      <p className="muted">Not in this build yet.</p>
    </section>
  );
}
