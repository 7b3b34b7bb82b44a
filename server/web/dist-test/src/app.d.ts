export declare function App(): import("preact").JSX.Element | null;
//# sourceMappingURL=app.d.ts.map