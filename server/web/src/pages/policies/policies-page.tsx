import { useApp } from '../../app-context.js';
import type { Route } from '../../router.js';

export function PoliciesPage(_props: { route: Route }) {
  const { t } = useApp();
  return (
    <section>
      <h1>{t('policies.title')}</h1>
      <p>{t('page.comingSoon')}</p>
    </section>
  );
}
