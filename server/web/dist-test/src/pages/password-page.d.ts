export declare function PasswordPage(): import("preact").JSX.Element;
//# sourceMappingURL=password-page.d.ts.map