/** Strings of the devices page (see i18n/common-messages.ts for the rules). */
export declare const az: {
    readonly 'devices.title': "Qurğular";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=messages.d.ts.map