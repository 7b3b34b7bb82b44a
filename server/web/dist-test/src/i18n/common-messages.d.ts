/**
 * The console's own strings (shell, sign-in, common words), Azerbaijani first: it is the default
 * language. Each page keeps its strings in its own `messages.ts`, merged in catalogue.ts; the
 * English object must have exactly the Azerbaijani keys (the type checks it). `{name}` marks a
 * parameter. Components only name keys.
 */
export declare const az: {
    readonly 'app.name': "Portcullis";
    readonly 'app.tagline': "Port və e-poçt nəzarəti";
    readonly 'lang.switch': "Dil";
    readonly 'lang.az': "Azərbaycanca";
    readonly 'lang.en': "English";
    readonly 'nav.main': "Əsas naviqasiya";
    readonly 'nav.overview': "İcmal";
    readonly 'nav.computers': "Kompüterlər";
    readonly 'nav.policies': "Siyasətlər";
    readonly 'nav.events': "Pozuntular jurnalı";
    readonly 'nav.devices': "Qurğular";
    readonly 'nav.audit': "Audit izi";
    readonly 'nav.users': "İstifadəçilər";
    readonly 'nav.tokens': "Qeydiyyat açarları";
    readonly 'user.menu': "{name} kimi daxil olunub ({role})";
    readonly 'user.signOut': "Çıxış";
    readonly 'user.changePassword': "Parolu dəyiş";
    readonly 'role.admin': "administrator";
    readonly 'role.security': "təhlükəsizlik";
    readonly 'role.viewer': "müşahidəçi";
    readonly 'signIn.title': "Daxil ol";
    readonly 'signIn.username': "İstifadəçi adı";
    readonly 'signIn.password': "Parol";
    readonly 'signIn.submit': "Daxil ol";
    readonly 'signIn.failed': "İstifadəçi adı və ya parol yanlışdır.";
    readonly 'signIn.locked': "Çoxlu uğursuz cəhd. {minutes} dəqiqədən sonra yenidən cəhd edin.";
    readonly 'password.title': "Parolu dəyiş";
    readonly 'password.current': "Cari parol";
    readonly 'password.new': "Yeni parol";
    readonly 'password.repeat': "Yeni parol təkrar";
    readonly 'password.mismatch': "İki yeni parol fərqlidir.";
    readonly 'password.saved': "Parol dəyişdirildi.";
    readonly 'password.submit': "Parolu dəyiş";
    readonly 'common.loading': "Yüklənir…";
    readonly 'common.save': "Yadda saxla";
    readonly 'common.cancel': "Ləğv et";
    readonly 'common.error': "Xəta baş verdi: {message}";
    readonly 'common.forbidden': "Rolunuz bunu etməyə icazə vermir.";
    readonly 'common.notFound': "Belə səhifə yoxdur.";
    readonly 'common.none': "yoxdur";
    readonly 'page.comingSoon': "Bu səhifə hazırlanır.";
};
export declare const en: Readonly<Record<keyof typeof az, string>>;
//# sourceMappingURL=common-messages.d.ts.map