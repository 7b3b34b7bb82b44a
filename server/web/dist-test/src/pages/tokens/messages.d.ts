/** Strings of the tokens page (see i18n/common-messages.ts for the rules). */
export declare const az: {
    readonly 'tokens.title': "Qeydiyyat açarları";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=messages.d.ts.map