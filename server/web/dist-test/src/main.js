import { jsx as _jsx } from "preact/jsx-runtime";
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';
const root = document.getElementById('app');
if (root !== null)
    render(_jsx(App, {}), root);
//# sourceMappingURL=main.js.map