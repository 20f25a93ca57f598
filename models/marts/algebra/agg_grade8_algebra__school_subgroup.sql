{{ grade8_algebra_subgroup_aggregate('school') }}
