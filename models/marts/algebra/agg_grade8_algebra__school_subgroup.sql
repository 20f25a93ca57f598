{{ grade8_algebra_subgroup_aggregate(['school_year', 'school_code']) }}
