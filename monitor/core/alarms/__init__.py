"""The alarm system (IEC 60601-1-8 practice): profiles, rules, the engine, tones."""
