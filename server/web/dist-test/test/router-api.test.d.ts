export {};
//# sourceMappingURL=router-api.test.d.ts.map