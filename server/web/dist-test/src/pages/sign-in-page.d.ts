export declare function SignInPage(): import("preact").JSX.Element;
//# sourceMappingURL=sign-in-page.d.ts.map