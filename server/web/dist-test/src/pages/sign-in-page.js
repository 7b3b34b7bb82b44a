import { jsxs as _jsxs, jsx as _jsx } from "preact/jsx-runtime";
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useApp } from '../app-context.js';
import { LOCALES } from '../i18n/i18n.js';
export function SignInPage() {
    const { api, t, setUser, locale, setLocale } = useApp();
    const [username, setUsername] = useState('');
    const [password, setPassword] = useState('');
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const submit = async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
            const session = await api.post('/session', { username, password });
            setPassword('');
            setUser({ username: session.username, role: session.role });
            if (location.hash === '' || location.hash === '#/')
                location.hash = '#/overview';
        }
        catch (err) {
            if (err instanceof ApiError && err.status === 429) {
                const seconds = err.details?.retryAfterSeconds ?? 900;
                setError(t('signIn.locked', { minutes: Math.ceil(seconds / 60) }));
            }
            else if (err instanceof ApiError && err.status === 401) {
                setError(t('signIn.failed'));
            }
            else {
                setError(t('common.error', { message: err instanceof Error ? err.message : String(err) }));
            }
        }
        finally {
            setBusy(false);
        }
    };
    return (_jsx("main", { class: "sign-in", children: _jsxs("form", { onSubmit: (e) => void submit(e), "aria-labelledby": "sign-in-title", children: [_jsxs("h1", { id: "sign-in-title", children: [t('app.name'), " \u2014 ", t('signIn.title')] }), _jsxs("label", { children: [t('signIn.username'), _jsx("input", { name: "username", autocomplete: "username", required: true, value: username, onInput: (e) => setUsername(e.currentTarget.value) })] }), _jsxs("label", { children: [t('signIn.password'), _jsx("input", { name: "password", type: "password", autocomplete: "current-password", required: true, value: password, onInput: (e) => setPassword(e.currentTarget.value) })] }), error !== null && (_jsx("p", { role: "alert", class: "error", "data-testid": "sign-in-error", children: error })), _jsx("button", { type: "submit", disabled: busy, children: t('signIn.submit') }), _jsxs("label", { class: "lang", children: [t('lang.switch'), _jsx("select", { value: locale, onChange: (e) => setLocale(e.currentTarget.value), children: LOCALES.map((l) => (_jsx("option", { value: l, children: t(`lang.${l}`) }, l))) })] })] }) }));
}
//# sourceMappingURL=sign-in-page.js.map