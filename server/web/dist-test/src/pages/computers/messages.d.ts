/** Strings of the computers page (see i18n/common-messages.ts for the rules). */
export declare const az: {
    readonly 'computers.title': "Kompüterlər";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=messages.d.ts.map