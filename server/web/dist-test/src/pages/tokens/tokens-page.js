import { jsx as _jsx, jsxs as _jsxs } from "preact/jsx-runtime";
import { useApp } from '../../app-context.js';
export function TokensPage(_props) {
    const { t } = useApp();
    return (_jsxs("section", { children: [_jsx("h1", { children: t('tokens.title') }), _jsx("p", { children: t('page.comingSoon') })] }));
}
//# sourceMappingURL=tokens-page.js.map