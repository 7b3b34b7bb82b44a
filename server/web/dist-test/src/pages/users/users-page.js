import { jsx as _jsx, jsxs as _jsxs } from "preact/jsx-runtime";
import { useApp } from '../../app-context.js';
export function UsersPage(_props) {
    const { t } = useApp();
    return (_jsxs("section", { children: [_jsx("h1", { children: t('users.title') }), _jsx("p", { children: t('page.comingSoon') })] }));
}
//# sourceMappingURL=users-page.js.map