/** Strings of the events page (see i18n/common-messages.ts for the rules). */
export declare const az: {
    readonly 'events.title': "Pozuntular jurnalı";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=messages.d.ts.map