/** Strings of the audit page (see i18n/common-messages.ts for the rules). */
export declare const az: {
    readonly 'audit.title': "Audit izi";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=messages.d.ts.map