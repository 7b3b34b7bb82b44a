import { jsx as _jsx, jsxs as _jsxs } from "preact/jsx-runtime";
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useApp } from '../app-context.js';
export function PasswordPage() {
    const { api, t } = useApp();
    const [current, setCurrent] = useState('');
    const [next, setNext] = useState('');
    const [repeat, setRepeat] = useState('');
    const [message, setMessage] = useState(null);
    const submit = async (e) => {
        e.preventDefault();
        if (next !== repeat) {
            setMessage({ ok: false, text: t('password.mismatch') });
            return;
        }
        try {
            await api.put('/me/password', { current, password: next });
            setCurrent('');
            setNext('');
            setRepeat('');
            setMessage({ ok: true, text: t('password.saved') });
        }
        catch (err) {
            setMessage({ ok: false, text: t('common.error', { message: err instanceof ApiError || err instanceof Error ? err.message : String(err) }) });
        }
    };
    return (_jsxs("section", { children: [_jsx("h1", { children: t('password.title') }), _jsxs("form", { class: "narrow", onSubmit: (e) => void submit(e), children: [_jsxs("label", { children: [t('password.current'), _jsx("input", { type: "password", autocomplete: "current-password", required: true, value: current, onInput: (e) => setCurrent(e.currentTarget.value) })] }), _jsxs("label", { children: [t('password.new'), _jsx("input", { type: "password", autocomplete: "new-password", required: true, value: next, onInput: (e) => setNext(e.currentTarget.value) })] }), _jsxs("label", { children: [t('password.repeat'), _jsx("input", { type: "password", autocomplete: "new-password", required: true, value: repeat, onInput: (e) => setRepeat(e.currentTarget.value) })] }), message !== null && (_jsx("p", { role: message.ok ? 'status' : 'alert', class: message.ok ? 'ok' : 'error', children: message.text })), _jsx("button", { type: "submit", children: t('password.submit') })] })] }));
}
//# sourceMappingURL=password-page.js.map