/**
 * Sentence and question templates of the sample-data generator. `{S}` is the subject (its name
 * in the first sentence, else a pronoun or "該市"-style reference), `{N}` in questions is the
 * subject's name, other `{field}`s are the entity's values.
 * @module
 */

/** Entity types of the sample world. */
export type EntityType = "person" | "place" | "org" | "event";

/** Sentence groups per entity type: an intro (always first) and fact sentences. */
export const SENTENCES: Record<EntityType, { intro: string[]; facts: Record<string, string[]> }> = {
  person: {
    intro: [
      "{S}是一位{occupation}。",
      "{S}是知名的{occupation}。",
      "{S}是一名出色的{occupation}。",
    ],
    facts: {
      birth: [
        "{S}於{birthYear}出生於{birthCity}。",
        "{S}在{birthYear}生於{birthCity}。",
        "{birthYear}，{S}出生在{birthCity}。",
        "{S}出生於{birthCity}，那一年是{birthYear}。",
      ],
      org: [
        "{S}自{joinYear}起任職於{org}。",
        "{joinYear}，{S}加入了{org}。",
        "{S}目前在{org}工作，已有多年資歷。",
      ],
      award: [
        "{S}曾於{awardYear}獲得{award}。",
        "{awardYear}，{S}憑著《{work}》獲得{award}。",
        "{S}在{awardYear}榮獲{award}，備受肯定。",
      ],
      work: ["{S}的代表作是《{work}》。", "《{work}》是{S}最受歡迎的作品。"],
      mentor: [
        "{S}早年師從{mentor}。",
        "{S}的老師是{mentor}。",
        "在{mentor}的指導下，{S}逐漸嶄露頭角。",
      ],
      english: ["{S}的英文名字是{english}。", "朋友們習慣用英文名字{english}稱呼{S}。"],
      books: ["{S}至今已出版{books}著作。", "{S}一共寫了{books}書。"],
    },
  },
  place: {
    intro: [
      "{S}是一座歷史悠久的城鎮。",
      "{S}坐落在群山之間，風景十分優美。",
      "{S}位於{river}的下游，是一座熱鬧的城鎮。",
    ],
    facts: {
      founded: [
        "{S}建於{foundedYear}。",
        "{S}始建於{foundedYear}，至今仍保留許多古蹟。",
        "早在{foundedYear}，{S}就已經建立。",
      ],
      population: [
        "{S}的人口約為{population}。",
        "{S}目前約有{population}居住。",
        "根據最新統計，{S}共有{population}。",
      ],
      area: ["{S}的面積為{area}。", "{S}占地約{area}。"],
      river: ["{river}流經{S}。", "{S}境內最主要的河流是{river}。"],
      distance: ["{S}距離{distanceCity}約{distance}。", "從{S}到{distanceCity}大約{distance}。"],
      specialty: ["{S}以盛產{specialty}聞名。", "{specialty}是{S}最有名的特產。"],
      mayor: ["{S}現任{head}是{mayor}。", "{mayor}自上任以來一直擔任{S}的{head}。"],
      english: ["{S}的英文名稱為{english}。", "{S}在外文資料中被稱為{english}。"],
    },
  },
  org: {
    intro: ["{S}是一家從事{trade}的機構。", "{S}是國內知名的{trade}業者。", "{S}主要經營{trade}。"],
    facts: {
      founding: [
        "{S}由{founder}於{foundedYear}創立。",
        "{foundedYear}，{founder}創辦了{S}。",
        "{S}成立於{foundedYear}，創辦人是{founder}。",
      ],
      hq: ["{S}的總部位於{hq}。", "{S}將總部設在{hq}。"],
      employees: ["{S}目前擁有{employees}員工。", "{S}共僱用了{employees}員工。"],
      product: [
        "{S}最著名的產品是{product}。",
        "{S}推出的{product}大受歡迎。",
        "{S}的代表產品{product}銷往世界各地。",
      ],
      revenue: ["{S}去年的營收達到{revenue}。", "{S}去年營收約{revenue}。"],
    },
  },
  event: {
    intro: [
      "{edition}{S}於{date}在{city}舉行。",
      "{S}是每年一度的盛會，{edition}於{date}在{city}登場。",
      "{date}，{edition}{S}在{city}開幕。",
    ],
    facts: {
      participants: ["{S}共吸引了{participants}參加。", "這一屆共有{participants}報名參加{S}。"],
      organizer: ["{S}由{organizer}主辦。", "主辦單位{organizer}表示，{S}今年的規模比往年更大。"],
      winner: ["{S}的冠軍由{winner}奪得。", "{winner}在{S}中表現出色，拿下冠軍。"],
      prize: ["{S}的冠軍獎金為{prize}。", "{S}冠軍可獲得{prize}的獎金。"],
    },
  },
};

/**
 * Question templates per entity type and asked field. Only these fields are asked (5 per type,
 * 20 in all, so each gets ~100 training questions); the other facts stay in the paragraphs as
 * content and as confusers (more years, places, names and numbers).
 */
export const QUESTIONS: Record<EntityType, Record<string, string[]>> = {
  person: {
    birthYear: ["{N}是哪一年出生的？", "{N}出生於哪一年？", "請問{N}在哪一年出生？"],
    birthCity: ["{N}出生於哪裡？", "{N}的出生地是哪座城市？", "{N}是在哪裡出生的？"],
    org: ["{N}在哪個機構工作？", "{N}任職於哪裡？"],
    mentor: ["{N}的老師是誰？", "{N}早年跟隨誰學習？"],
    english: ["{N}的英文名字是什麼？", "{N}的英文名叫什麼？"],
  },
  place: {
    foundedYear: ["{N}建於哪一年？", "{N}是在哪一年建立的？"],
    population: ["{N}的人口大約有多少？", "{N}約有多少人居住？"],
    distance: ["{N}距離{distanceCity}多遠？", "從{N}到{distanceCity}大約多少公里？"],
    mayor: ["{N}的{head}是誰？", "誰擔任{N}的{head}？"],
    english: ["{N}的英文名稱是什麼？", "{N}在外文資料中被稱為什麼？"],
  },
  org: {
    foundedYear: ["{N}成立於哪一年？", "{N}是在哪一年創立的？"],
    founder: ["{N}的創辦人是誰？", "誰創立了{N}？"],
    hq: ["{N}的總部位於哪裡？", "{N}的總部設在哪座城市？"],
    employees: ["{N}有多少名員工？", "{N}的員工人數是多少？"],
    product: ["{N}最著名的產品叫什麼？", "{N}的代表產品名稱是什麼？"],
  },
  event: {
    date: ["{N}在哪一天舉行？", "{N}舉辦的日期是？"],
    city: ["{N}在哪裡舉行？", "{N}的舉辦地點是哪座城市？"],
    participants: ["有多少人參加了{N}？", "{N}共吸引多少人參加？"],
    winner: ["{N}的冠軍是誰？", "誰在{N}中奪得冠軍？"],
    prize: ["{N}的冠軍獎金是多少？", "{N}冠軍可以獲得多少獎金？"],
  },
};

/** Filler sentences (no asked facts; some carry other years, places and numbers as confusers). */
export const FILLERS: Record<EntityType, string[]> = {
  person: [
    "{S}平時喜歡{hobby}。",
    "{S}的作品深受年輕人喜愛。",
    "{S}經常到各地演講，分享自己的經驗。",
    "除了工作之外，{S}也熱心參與公益活動。",
    "{S}曾在{year2}前往{city2}進修。",
    "{S}認為，持續學習是成功的關鍵。",
    "{S}每天清晨都會花一個小時{hobby}。",
    "{S}小時候的夢想是成為一名老師。",
    "{year2}，{S}在{city2}舉辦了第一場個人展覽。",
    "{S}曾說，家人的支持是最大的動力。",
    "{S}的生活十分簡樸，很少出現在公開場合。",
    "每逢假日，{S}總會回到{city2}探望親友。",
    "{S}也是一位熱愛{hobby}的人。",
  ],
  place: [
    "{S}氣候溫和，四季分明。",
    "每年{month}月，{S}都會舉辦熱鬧的慶典。",
    "{S}的老街保存了許多古老的建築。",
    "從{city2}搭乘火車約{hours}小時即可抵達{S}。",
    "{S}的居民大多從事農業與漁業。",
    "{year2}，{S}曾遭遇一場大洪水。",
    "{S}的夜市每到週末便擠滿了人潮。",
    "{S}的交通十分便利，有多條公路通往{city2}。",
    "{year2}，{S}完成了第一座大橋的興建。",
    "{S}的中央公園種滿了櫻花與楓樹。",
    "許多旅客會在{month}月造訪{S}。",
    "{S}的港口每天都有漁船進出。",
  ],
  org: [
    "{S}重視研發，每年都投入大量資金。",
    "{S}在{city2}設有分部。",
    "{year2}，{S}曾經歷一段艱困的時期。",
    "{S}的員工福利在業界頗受好評。",
    "{S}近年積極拓展海外市場。",
    "{S}每年都會舉辦大型的員工運動會。",
    "{year2}，{S}在{city2}開設了第一家門市。",
    "{S}與多所大學合作培育人才。",
    "{S}的辦公大樓以節能設計著稱。",
    "{S}的經營理念是誠信與創新。",
    "{S}曾多次獲選為最佳雇主。",
  ],
  event: [
    "活動期間吸引了大批遊客前來參觀。",
    "主辦單位表示，明年將擴大舉辦。",
    "{S}的門票在開賣後不久便銷售一空。",
    "許多來自{city2}的民眾特地前來參加。",
    "{year2}，{S}曾因天候因素停辦一次。",
    "現場還設有許多美食攤位。",
    "{S}的志工大多來自{city2}的大學。",
    "不少民眾一早就到場排隊入場。",
    "{S}的開幕典禮在晚上{hours}點準時開始。",
    "{S}的活動內容每年都有所不同。",
    "當地的旅館在活動期間幾乎全部客滿。",
  ],
};
