-- 搜索同义词: a query's word (term) also finds the matters named by its alternatives. Kept
-- by the hall managers; a change bumps catalog_version, so cached search answers are dropped.
create table search_synonyms (
    -- As people type it, lower-cased, no spaces: 社保卡.
    term text not null primary key,
    -- JSON array of alternatives: ["社会保障卡"]; an alternative's words are space-separated.
    alternatives_json text not null,
    -- The order the managers keep them in.
    position bigint not null,
    updated_at bigint not null
);

-- The words people say (社保卡, 上户口, 准生证) and what the catalogue calls them. An
-- alternative of several words (separated by a space) matches a matter that has all of
-- them: 补办身份证 finds 丢失补领身份证 by 身份证 and 补领. Managers edit the list at
-- /admin/search-synonyms; these are the defaults.
insert into search_synonyms (term, alternatives_json, position, updated_at) values
    ('社保卡', '["社会保障卡"]', 1, 0),
    ('医保卡', '["医疗保障卡","医保","医疗保险"]', 2, 0),
    ('营业执照', '["设立登记","个体工商户"]', 3, 0),
    ('上户口', '["户口登记","出生登记","立户"]', 4, 0),
    ('落户', '["户口迁移","出生登记","迁入"]', 5, 0),
    ('准生证', '["生育登记","生育服务证","生育服务卡"]', 6, 0),
    ('个体户', '["个体工商户"]', 7, 0),
    ('补办身份证', '["身份证 补领","身份证 换领"]', 8, 0),
    ('补办', '["补领","补发","换领"]', 9, 0),
    ('户口本', '["户口簿"]', 10, 0),
    ('社保', '["社会保险","社会保障"]', 11, 0),
    ('医保', '["医疗保险","医疗保障"]', 12, 0),
    ('结婚证', '["结婚登记"]', 13, 0),
    ('离婚证', '["离婚登记"]', 14, 0),
    ('驾照', '["驾驶证"]', 15, 0),
    ('护照', '["普通护照"]', 16, 0),
    ('房产证', '["不动产权证书","不动产登记"]', 17, 0),
    ('过户', '["转移登记"]', 18, 0),
    ('残疾证', '["残疾人证"]', 19, 0),
    ('老年证', '["老年人优待证"]', 20, 0),
    ('开公司', '["企业设立登记"]', 21, 0),
    ('个税', '["个人所得税"]', 22, 0),
    ('退休', '["养老保险待遇"]', 23, 0);
